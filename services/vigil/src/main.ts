import 'reflect-metadata';
import { createServer } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, describeOptions, flagOf, loadConfig, parseArgv, type ConfigOf } from '@vigil/config';
import { eventLogLogger } from '@vigil/nest-kit';
import { loadIgnoreFile, parseSeverityThreshold, type IgnoreRule } from '@vigil/policy';
import { createTokenStore } from '@vigil/store';
import { createLogger, setLogDestination, setLogLevel } from '@vigil/telemetry';
import {
  clusterGiven,
  commandOf,
  distinctValues,
  optionError,
  positionalsOf,
  refuseForeignOptions,
  refuseNoSnapshot,
  refuseRepeatedOption,
  subcommandOf,
  takesOption,
  OPTION_COMMANDS,
} from './cli-args.js';
import { commandUsage } from './cli-help.js';
import { cliOptions } from './cli.options.js';
import { ackArgs, ackCommand } from './commands/ack.command.js';
import { ATTEST_FLAGS, attestArgs, attestCommand } from './commands/attest.command.js';
import { EXCEPTION_FLAGS, exceptionArgs, exceptionCommand } from './commands/exception.command.js';
import { dbCommand } from './commands/db.command.js';
import {
  checkOutputFolder,
  evidenceExport,
  evidenceKey,
  evidenceVerify,
  loadSigningKey,
} from './commands/evidence.command.js';
import { explainCommand } from './commands/explain.command.js';
import { ingestArgs, ingestCommand } from './commands/ingest.command.js';
import { reportCommand, type ReportFormat } from './commands/report.command.js';
import { ciCommand, ciPrepare, type CiArgs } from './commands/ci.command.js';
import { tokenCommand } from './commands/token.command.js';
import { scanCommand } from './commands/scan.command.js';
import { scanTarget } from './commands/scan-target.js';
import {
  SNAPSHOT_FLAGS,
  checkedScope,
  snapshotCreateCommand,
  snapshotsCommand,
  type SnapshotRequester,
} from './commands/snapshots.command.js';
import { requireKnownCluster } from './commands/known-cluster.js';
import { cliRequester } from './cli-user.js';
import { diffCommand } from './commands/diff.command.js';
import { reportingCommand } from './commands/reporting.command.js';
import type { PolicyInput } from './commands/findings-view.js';
import {
  DeploymentError,
  checkDataDir,
  openDeployment,
  type DataDirUse,
  type Deployment,
} from './deployment.js';
import { terminalOutput, type Output } from './output.js';
import { VIGIL_VERSION, startPipeline } from './pipeline.js';
import { UsageError, commandName } from './usage-error.js';

type Config = ConfigOf<typeof cliOptions> & {
  /** Refuses a data dir this command cannot use (see dataDirUse): before anything opens or creates it. */
  readonly checkDataDir: () => void;
};

const USAGE = `vigil ${VIGIL_VERSION} — PCI DSS v4.0.1 evidence for Kubernetes

Usage:
  vigil up                               run every service with its HTTP endpoints until stopped
  vigil scan image <ref|archive>         scan a container image (registry reference, docker or OCI archive)
  vigil scan rootfs <dir>                scan an unpacked root filesystem (a mounted node, a build stage)
  vigil scan fs <dir>                    scan a source tree's lockfiles and manifests
  vigil scan k8s <file|dir>... | --live  audit Kubernetes manifests or the live cluster
  vigil scan host [--root PATH] [--node NAME]
                                         assess a node from its root filesystem
  vigil ingest falco|tetragon|k8s-audit <file|->
                                         read runtime sensor events (a file, or - for stdin) and print their findings
  vigil ack <finding-id> --reason TEXT [--by NAME] [--exception ID]
                                         close a runtime detection's window (acknowledged, or excepted)
  vigil exception accept --owner O --justification TEXT --approver NAME... --expires DATE [--expire-on-fix]
        [--kind risk|compensating] [--requirement ID]... [--finding ID|--rule ID|--source S|--namespace N|
        --workload KIND/NAME|--image-digest D|--image-repo R|--package P|--path P]...
  vigil exception revoke <id> --reason TEXT | exception list
                                         risk acceptances and compensating controls (events on the log)
  vigil attest <requirement> --statement TEXT --evidence FILE... [--valid-until DATE] | attest revoke <id> --reason TEXT
                                         manual evidence for a requirement, kept by hash
  vigil explain network <ns/name|Kind/ns/name> --manifests PATH...
                                         what a workload can reach and what can reach it, and why
  vigil ci --image <ref|archive> [--manifests PATH...] --fail-on SEVERITY | --fail-on-requirement ID...
          [--baseline <snapshot|report.json>] [--sarif FILE] [--junit FILE]
                                         the pipeline gate: scan, summarize, write SARIF and JUnit, exit 1 on new risk
  vigil report [--snapshot N | --list | --diff A..B]
                                         the scope's latest PCI DSS snapshot (or one, the list, a diff)
  vigil snapshots [create] [--scope S]   the scope's snapshot versions with their triggers, or a new one now
                                         (--cluster C lists that cluster's only)
  vigil diff A B [--scope S]             findings added, resolved and changed, and requirement status changes
  vigil reporting rebuild                drop the projections, replay the stored log, check every content hash
  vigil evidence export [--snapshot N] -o bundle.zip | key [-o vigil.pub] | verify bundle.zip --key vigil.pub
                                         a signed evidence bundle for the assessor, the public key, offline verification
  vigil token create --role viewer|auditor|admin --cluster NAME | --all-clusters [--description TEXT]
  vigil token revoke <id> | token list   API tokens for /graphql (a token is printed once; only its hash is kept)
  vigil db migrate|status|import <zip|dir>...|update
                                         the deployment's database and its OSV advisory data

Command flags:
  up:     --port N (default $PORT or 8080), --host ADDR (default $HOST or 127.0.0.1); with --ingest-token
          (RUNTIME_INGEST_TOKEN) it also takes sensor events on POST /v1/events/falco|tetragon|k8s-audit
  scan:   image <ref|archive> [--platform os/arch]; rootfs <dir>; fs <dir>;
          k8s <file|dir>... or --manifests PATH... or --live [--kubeconfig FILE] [--context NAME], with
          --cde-label key=value (default pci-scope=cde); host --root PATH (default /) --node NAME
  ingest: <falco|tetragon|k8s-audit> <file|->; --format table|json
  exception, attest, ack: accept, revoke, a new attestation and ack also request a snapshot of the cluster and print the
          version that includes the change; --no-snapshot records the event only (vigil report shows it from the
          next snapshot). Refused in a cluster with no recorded events. An acceptance expires within 12 months
          (PCI DSS 12.3.1 annual review)
  explain: network <workload> --manifests PATH... [--cde-label key=value]; --format table|json
  report: --snapshot N, --list, --diff FROM..TO; --format table|json|sarif|csv|html|junit (csv: the requirements;
          html: the auditor's page of the evidence bundle)
  evidence: export --snapshot N -o FILE; key -o FILE; verify FILE --key PUB (exit 1: verification failed);
          --signing-key FILE (default: the data dir's own key, made once)
  db:     import <zip|dir>...; update [--ecosystem NAME]... [--url BASE]

Exit codes: 0 done, 1 policy failed (with --fail-on: a finding at or above the threshold remains, or the scan
could not check anything — its engine is unavailable), 2 usage, configuration or input error (a scan that
failed on its input included).

Options (each also from its environment variable):
`;

// Flags that belong to one command, not to the configuration.
const commandFlags = {
  help: { type: 'boolean', short: 'h' },
  root: { type: 'string' },
  node: { type: 'string' },
  live: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  manifests: { type: 'string', multiple: true },
  reason: { type: 'string' },
  role: { type: 'string' },
  description: { type: 'string' },
  'all-clusters': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  key: { type: 'string' },
  by: { type: 'string' },
  exception: { type: 'string' },
  list: { type: 'boolean' },
  snapshot: { type: 'string' },
  diff: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  version: { type: 'boolean' },
  ecosystem: { type: 'string', multiple: true },
  url: { type: 'string' },
  ...EXCEPTION_FLAGS,
  ...ATTEST_FLAGS,
  ...SNAPSHOT_FLAGS,
  image: { type: 'string' },
  'fail-on-requirement': { type: 'string', multiple: true },
  baseline: { type: 'string' },
  sarif: { type: 'string' },
  junit: { type: 'string' },
} as const;

// The flags that take a value, so the words after them are not read as the command when the line does not parse.
const VALUE_FLAGS = new Set([
  ...Object.entries(cliOptions)
    .filter(([, option]) => option.type !== 'bool')
    .map(([name, option]) => flagOf(name, option)),
  ...Object.entries(commandFlags)
    .filter(([, flag]) => flag.type === 'string')
    .map(([name]) => name),
]);
// The flags that take one value: given twice, the parser would keep the last without a word.
const SINGLE_VALUE_FLAGS = new Set([
  ...Object.entries(cliOptions)
    .filter(([, option]) => option.type !== 'bool' && option.type !== 'list')
    .map(([name, option]) => flagOf(name, option)),
  ...Object.entries(commandFlags)
    .filter(([, flag]) => flag.type === 'string' && !('multiple' in flag && flag.multiple))
    .map(([name]) => name),
]);
const SHORT_FLAGS = new Map(
  Object.entries(commandFlags)
    .filter(([, flag]) => 'short' in flag)
    .map(([name, flag]) => [(flag as { short: string }).short, name] as const),
);
const SHORT_VALUE_FLAGS = new Set(
  Object.values(commandFlags)
    .filter((flag) => flag.type === 'string' && 'short' in flag)
    .map((flag) => (flag as { short: string }).short),
);

export async function main(argv: string[], out: Output = terminalOutput()): Promise<number> {
  try {
    return await runCommandLine(argv, out);
  } catch (err) {
    // The option loader is shared with the services and says "config:"; the user ran a command.
    if (err instanceof ConfigError)
      throw optionError(err, commandOf(positionalsOf(argv, VALUE_FLAGS, SHORT_VALUE_FLAGS)), argv);
    throw err;
  }
}

async function runCommandLine(argv: string[], out: Output): Promise<number> {
  setLogDestination('stderr');
  const parsed = parseArgv(cliOptions, argv, { allowPositionals: true, extra: commandFlags });
  refuseRepeatedOption(commandOf(parsed.positionals), argv, SINGLE_VALUE_FLAGS, SHORT_FLAGS);
  const extra = distinctValues(parsed.extra) as Record<string, string | boolean | undefined>;
  if (extra.version) {
    out.result(VIGIL_VERSION);
    return 0;
  }
  const [command, ...args] = parsed.positionals;
  if (extra.help) {
    out.result(command ? commandHelp(command, args) : USAGE + describeOptions(cliOptions));
    return 0;
  }
  if (!command) {
    out.warn(USAGE + describeOptions(cliOptions));
    return 2;
  }
  // Severity words are case-insensitive on the command line (--fail-on HIGH), as in the ignore file.
  const failOn = parsed.flags['fail-on'];
  if (typeof failOn === 'string') parsed.flags['fail-on'] = failOn.toLowerCase();
  const loaded = loadConfig(cliOptions, { env: process.env, flags: parsed.flags });
  const config: Config = {
    ...loaded,
    checkDataDir: () =>
      checkDataDir({
        dataDir: loaded.dataDir,
        label: dataDirLabel(loaded.dataDir, parsed.flags, process.env),
        use: dataDirUse(command, args),
        eventLog: loaded.eventLog,
        databaseUrl: loaded.databaseUrl,
        command: commandName(command, subcommandOf(command, args)),
      }),
  };
  if (!config.dataDir.trim())
    throw new UsageError('vigil: --data-dir is empty (give a directory, or leave it out for ./.vigil)');
  if (config.ignoreFile !== undefined && !config.ignoreFile.trim())
    throw new UsageError('vigil: --ignore-file is empty');
  refuseNoSnapshot(parsed.positionals, extra);
  refuseForeignOptions(parsed.positionals, [...Object.keys(parsed.flags), ...Object.keys(extra)]);
  setLogLevel(config.logLevel);
  const policy = await policyInput(config);

  switch (command) {
    case 'scan': {
      const [kind, ...rest] = args;
      const target = scanTarget(kind ?? '', rest, {
        ...(typeof extra.root === 'string' ? { root: extra.root } : {}),
        ...(typeof extra.node === 'string' ? { node: extra.node } : {}),
        live: extra.live === true,
        ...(typeof extra.kubeconfig === 'string' ? { kubeconfig: extra.kubeconfig } : {}),
        ...(typeof extra.context === 'string' ? { context: extra.context } : {}),
        ...(Array.isArray(extra.manifests) ? { manifests: extra.manifests.map(String) } : {}),
      });
      if (config.cdeLabel !== undefined) {
        if (kind !== 'k8s') throw new UsageError(`vigil scan ${kind}: --cde-label is for k8s scans`);
        target.options = { ...target.options, 'cde-label': config.cdeLabel };
      }
      const imageScan = kind === 'image' || kind === 'rootfs' || kind === 'fs';
      const format = config.format;
      if (format === 'csv' || format === 'html' || format === 'junit')
        throw new UsageError(`vigil scan ${kind}: --format ${format} is for vigil report`);
      if (config.format === 'cyclonedx' && !imageScan)
        throw new UsageError(`vigil scan ${kind}: --format cyclonedx is for image, rootfs and fs scans`);
      if (config.platform) {
        if (kind !== 'image') throw new UsageError(`vigil scan ${kind}: --platform is for image scans`);
        target.options = { ...target.options, platform: config.platform };
      }
      return withPipeline(config, out, async (deployment, pipeline) =>
        scanCommand({
          deployment,
          pipeline,
          target,
          cluster: config.cluster,
          kind,
          format,
          severity: config.severity ?? [],
          ignoreUnfixed: config.ignoreUnfixed,
          timeoutMs: config.timeout,
          policy,
          out,
        }),
      );
    }
    case 'ingest': {
      ingestArgs(args); // usage errors before the deployment opens
      return withPipeline(config, out, async (deployment, pipeline) =>
        ingestCommand({
          deployment,
          pipeline,
          args,
          cluster: config.cluster,
          format: tableOrJson(config.format, 'vigil ingest'),
          timeoutMs: config.timeout,
          out,
        }),
      );
    }
    case 'exception': {
      const sub = args[0];
      exceptionArgs({ sub, args: args.slice(1), flags: extra, cluster: config.cluster }); // usage errors first
      const input = {
        sub,
        args: args.slice(1),
        flags: extra,
        cluster: config.cluster,
        format: config.format,
        out,
      };
      if (sub === 'list')
        return withDeployment(config, out, async (deployment) => {
          // As vigil snapshots --cluster: a mistyped cluster lists nothing, which reads as "no exceptions".
          if (clusterGiven(parsed.flags, process.env))
            await requireKnownCluster(
              deployment.sql,
              config.cluster,
              commandName('exception', 'list'),
              'nothing to list',
            );
          return exceptionCommand({ ...input, deployment });
        });
      return withRecording(
        config,
        out,
        commandName('exception', sub),
        sub === 'accept',
        extra,
        (deployment, snapshot) =>
          exceptionCommand({ ...input, deployment, ...(snapshot ? { snapshot } : {}) }),
      );
    }
    case 'attest': {
      // Usage errors and missing files before the deployment opens; the files are hashed once, here.
      const prepared = await attestArgs({ args, flags: extra, cluster: config.cluster });
      const revoke = args[0] === 'revoke';
      return withRecording(
        config,
        out,
        commandName('attest', revoke ? 'revoke' : undefined),
        !revoke,
        extra,
        (deployment, snapshot) =>
          attestCommand({
            deployment,
            args,
            flags: extra,
            cluster: config.cluster,
            out,
            prepared,
            ...(snapshot ? { snapshot } : {}),
          }),
      );
    }
    case 'ack': {
      const reason = typeof extra.reason === 'string' ? extra.reason : undefined;
      ackArgs(args, reason); // usage errors before the deployment opens
      return withRecording(config, out, commandName('ack'), false, extra, (deployment, snapshot) =>
        ackCommand({
          deployment,
          args,
          cluster: config.cluster,
          reason,
          ...(typeof extra.by === 'string' ? { by: extra.by } : {}),
          ...(typeof extra.exception === 'string' ? { exceptionId: extra.exception } : {}),
          ...(snapshot ? { snapshot } : {}),
          out,
        }),
      );
    }
    case 'explain': {
      // `--manifests A B` leaves B as an argument: paths after the workload are manifests too.
      const [what, pod, ...more] = args;
      if (what !== 'network' || !pod)
        throw new UsageError('vigil explain: use vigil explain network <namespace/name> --manifests PATH...');
      const cde = config.cdeLabel?.split('=');
      return explainCommand(
        {
          manifests: [...(Array.isArray(extra.manifests) ? extra.manifests.map(String) : []), ...more],
          pod,
          format: tableOrJson(config.format, 'vigil explain'),
          ...(cde ? { cdeLabel: { key: cde[0]!, value: cde.slice(1).join('=') } } : {}),
        },
        { write: (s) => out.result(s.replace(/\n$/, '')) },
      );
    }
    case 'ci': {
      if (args.length > 0) throw new UsageError(`vigil ci: unexpected argument "${args[0]}"`);
      if (config.format !== 'table')
        throw new UsageError('vigil ci: prints a summary; --sarif FILE and --junit FILE write the reports');
      const ci: CiArgs = {
        image: typeof extra.image === 'string' ? extra.image : '',
        manifests: Array.isArray(extra.manifests) ? extra.manifests.map(String) : [],
        failOnRequirements: Array.isArray(extra['fail-on-requirement'])
          ? extra['fail-on-requirement'].map(String)
          : [],
        ...(typeof extra.baseline === 'string' ? { baseline: extra.baseline } : {}),
        ...(typeof extra.sarif === 'string' ? { sarifPath: extra.sarif } : {}),
        ...(typeof extra.junit === 'string' ? { junitPath: extra.junit } : {}),
        ...(config.cdeLabel !== undefined ? { cdeLabel: config.cdeLabel } : {}),
        ...(config.platform ? { platform: config.platform } : {}),
      };
      const baselineFile = await ciPrepare(ci, policy); // usage and input errors before the deployment opens
      return withPipeline(config, out, async (deployment, pipeline) =>
        ciCommand({
          ...ci,
          ...(baselineFile ? { baselineFile } : {}),
          deployment,
          pipeline,
          cluster: config.cluster,
          ignoreUnfixed: config.ignoreUnfixed,
          timeoutMs: config.timeout,
          policy,
          toolVersion: VIGIL_VERSION,
          keyFingerprint: async () =>
            (
              await loadSigningKey({
                dataDir: config.dataDir,
                keyPath: config.signingKey,
                command: commandName('ci'),
              })
            ).fingerprint,
          out,
        }),
      );
    }
    case 'snapshot':
    case 'snapshots': {
      const create = command === 'snapshot' || args[0] === 'create';
      const rest = command === 'snapshots' && create ? args.slice(1) : args;
      if (rest.length > 0) throw new UsageError(`vigil ${command}: unexpected argument "${rest[0]}"`);
      const scope = typeof extra.scope === 'string' ? extra.scope : undefined;
      const format = tableOrJson(config.format, `vigil ${command}`);
      return withPipeline(config, out, async (deployment, pipeline) => {
        if (!create)
          return snapshotsCommand({
            store: pipeline.store,
            sql: deployment.sql,
            // --scope, else --cluster when it was given; neither: every scope.
            scope: scope ?? (clusterGiven(parsed.flags, process.env) ? config.cluster : undefined),
            format,
            out,
          });
        const command = commandName('snapshots', 'create');
        const target = checkedScope(scope ?? config.cluster, command);
        await requireKnownCluster(deployment.sql, target, command);
        return snapshotCreateCommand({
          ...snapshotRequester(config, deployment, pipeline),
          scope: target,
          format,
          out,
        });
      });
    }
    case 'diff': {
      if (args.length > 2) throw new UsageError(`vigil diff: unexpected argument "${args[2]}"`);
      const format = tableOrJson(config.format, 'vigil diff');
      return withPipeline(config, out, async (_d, pipeline) =>
        diffCommand({
          store: pipeline.store,
          scope: typeof extra.scope === 'string' ? extra.scope : config.cluster,
          from: args[0],
          to: args[1],
          format,
          out,
        }),
      );
    }
    case 'reporting': {
      if (args[0] !== 'rebuild')
        throw new UsageError('vigil reporting: the subcommand is rebuild (vigil reporting rebuild)');
      if (args.length > 1) throw new UsageError(`vigil reporting: unexpected argument "${args[1]}"`);
      const format = tableOrJson(config.format, 'vigil reporting');
      return withPipeline(config, out, async (deployment, pipeline) =>
        reportingCommand({
          sub: args[0],
          store: pipeline.store,
          eventLog: deployment.eventLog,
          entityType: config.entityType,
          format,
          out,
        }),
      );
    }
    case 'report': {
      if (args.length > 0) throw new UsageError(`vigil report: unexpected argument "${args[0]}"`);
      const version =
        typeof extra.snapshot === 'string'
          ? positiveInt(extra.snapshot, '--snapshot', commandName('report'))
          : undefined;
      const modes = [extra.list === true, typeof extra.diff === 'string', version !== undefined].filter(
        Boolean,
      );
      if (modes.length > 1) {
        throw new UsageError(
          'vigil report: --snapshot, --list and --diff each ask for something else; give one',
        );
      }
      return withPipeline(config, out, async (_d, pipeline) =>
        reportCommand({
          store: pipeline.store,
          cluster: config.cluster,
          format: reportFormat(config.format),
          toolVersion: VIGIL_VERSION,
          keyFingerprint: async () =>
            (
              await loadSigningKey({
                dataDir: config.dataDir,
                keyPath: config.signingKey,
                command: commandName('report'),
              })
            ).fingerprint,
          version,
          list: extra.list === true,
          diff: typeof extra.diff === 'string' ? extra.diff : undefined,
          policy,
          out,
        }),
      );
    }
    case 'db': {
      const deployment = await open(config, out, false);
      try {
        const ecosystems = extra.ecosystem;
        return await dbCommand(args[0], deployment.databaseUrl, config.format, out, {
          args: args.slice(1),
          ...(Array.isArray(ecosystems) ? { ecosystems: ecosystems.map(String) } : {}),
          ...(typeof extra.url === 'string' ? { baseUrl: extra.url } : {}),
          dataDir: config.dataDir,
        });
      } finally {
        await deployment.close();
      }
    }
    case 'evidence': {
      const [sub, ...rest] = args;
      const output = typeof extra.output === 'string' ? extra.output : undefined;
      if (sub === 'verify') {
        if (rest.length !== 1)
          throw new UsageError(
            'vigil evidence verify: give one bundle file: vigil evidence verify bundle.zip --key vigil.pub',
          );
        return evidenceVerify({
          bundlePath: rest[0]!,
          keyPath: typeof extra.key === 'string' ? extra.key : undefined,
          format: tableOrJson(config.format, 'vigil evidence verify'),
          out,
        });
      }
      if (rest.length > 0) throw new UsageError(`vigil evidence ${sub}: unexpected argument "${rest[0]}"`);
      if (sub === 'key') {
        if (config.signingKey === undefined) config.checkDataDir(); // before the key is made in it
        return evidenceKey({
          signingKey: await loadSigningKey({
            dataDir: config.dataDir,
            keyPath: config.signingKey,
            command: commandName('evidence', 'key'),
          }),
          output,
          out,
        });
      }
      if (sub === 'export') {
        if (!output) throw new UsageError('vigil evidence export: -o FILE names the bundle to write');
        // Before the pipeline starts, so a wrong path costs nothing.
        await checkOutputFolder(output, commandName('evidence', 'export'));
        const version =
          typeof extra.snapshot === 'string'
            ? positiveInt(extra.snapshot, '--snapshot', commandName('evidence', 'export'))
            : undefined;
        config.checkDataDir(); // before the key is made in it
        const signingKey = await loadSigningKey({
          dataDir: config.dataDir,
          keyPath: config.signingKey,
          command: commandName('evidence', 'export'),
        });
        return withPipeline(config, out, async (_d, pipeline) =>
          evidenceExport({
            store: pipeline.store,
            cluster: config.cluster,
            version,
            output,
            signingKey,
            now: new Date(),
            out,
          }),
        );
      }
      throw new UsageError(`vigil evidence: unknown subcommand "${sub ?? ''}" (export, key or verify)`);
    }
    case 'token': {
      // --cluster defaults to "default"; a token must not get that scope without being asked for it.
      const given = clusterGiven(parsed.flags, process.env);
      if (given && extra['all-clusters'] === true)
        throw new UsageError('vigil token: give --cluster NAME or --all-clusters, not both');
      const deployment = await open(config, out);
      try {
        return await tokenCommand({
          sub: args[0],
          args: args.slice(1),
          ...(typeof extra.role === 'string' ? { role: extra.role } : {}),
          ...(typeof extra.description === 'string' ? { description: extra.description } : {}),
          clusters: extra['all-clusters'] === true ? ['*'] : given ? [config.cluster] : [],
          format: config.format,
          tokens: createTokenStore(deployment.sql),
          out,
        });
      } finally {
        await deployment.close();
      }
    }
    case 'up':
      return up(config, out, extra);
    default:
      throw new UsageError(`vigil: unknown command "${command}" (try vigil --help)`);
  }
}

/**
 * A command that records an exception or attestation event. Unless --no-snapshot, it runs with the pipeline and a
 * snapshot requester, so the change is in the version `vigil report` shows next. `newRecord`: an accept or a new
 * attestation, refused in a cluster with no recorded events (a revocation already names something recorded).
 */
async function withRecording(
  config: Config,
  out: Output,
  command: string,
  newRecord: boolean,
  extra: Record<string, string | boolean | undefined>,
  fn: (deployment: Deployment, snapshot: SnapshotRequester | undefined) => Promise<number>,
): Promise<number> {
  const guard = async (deployment: Deployment) => {
    if (newRecord) await requireKnownCluster(deployment.sql, config.cluster, command);
  };
  if (extra['no-snapshot'] === true)
    return withDeployment(config, out, async (deployment) => {
      await guard(deployment);
      return fn(deployment, undefined);
    });
  return withPipeline(config, out, async (deployment, pipeline) => {
    await guard(deployment);
    return fn(deployment, snapshotRequester(config, deployment, pipeline));
  });
}

function snapshotRequester(
  config: Config,
  deployment: Deployment,
  pipeline: Awaited<ReturnType<typeof startPipeline>>,
): SnapshotRequester {
  return {
    store: pipeline.store,
    eventLog: deployment.eventLog,
    requestedBy: cliRequester(),
    waitUntilCaughtUp: () => pipeline.waitUntilCaughtUp(config.timeout),
  };
}

async function withDeployment(
  config: Config,
  out: Output,
  fn: (deployment: Deployment) => Promise<number>,
): Promise<number> {
  const deployment = await open(config, out);
  try {
    return await fn(deployment);
  } finally {
    await deployment.close();
  }
}

async function open(config: Config, out: Output, migrate = true): Promise<Deployment> {
  config.checkDataDir();
  return openDeployment({
    migrate,
    timeoutMs: config.timeout,
    eventLog: config.eventLog,
    dataDir: config.dataDir,
    kafkaBrokers: config.kafkaBrokers,
    kafkaClientId: config.kafkaClientId,
    databaseUrl: config.databaseUrl,
    logger: eventLogLogger(createLogger('event-log')),
    progress: out.progress,
  });
}

/**
 * How a command uses the embedded deployment's data dir, the one place that says it: `read` for the commands that
 * only look at a deployment (refused where none is), `write` for those that may make it (a scan, the first time).
 */
function dataDirUse(command: string, args: readonly string[]): DataDirUse {
  const sub = args[0];
  switch (command) {
    case 'report':
    case 'diff':
      return 'read';
    case 'snapshots':
      return sub === 'create' ? 'write' : 'read';
    case 'exception':
    case 'token':
      return sub === 'list' ? 'read' : 'write';
    case 'evidence':
      return sub === 'export' ? 'read' : 'write';
    case 'db':
      return sub === 'status' ? 'read' : 'write';
    default:
      return 'write';
  }
}

/** `vigil <command> --help`: its usage, its flags and the options only it takes; the whole help for others. */
function commandHelp(command: string, args: readonly string[]): string {
  const sub = subcommandOf(command, args);
  const usage = commandUsage(USAGE, command, sub);
  if (!usage) return USAGE + describeOptions(cliOptions);
  const own = Object.fromEntries(
    Object.entries(cliOptions).filter(([name, option]) => {
      const flag = flagOf(name, option);
      return OPTION_COMMANDS[flag] !== undefined && takesOption(flag, command, sub);
    }),
  ) as typeof cliOptions;
  return [
    usage,
    ...(Object.keys(own).length > 0 ? ['', 'Options for it:', describeOptions(own)] : []),
    '',
    'The deployment options every command takes (--data-dir, --cluster, --format, the event log, the database,',
    'logging, --timeout) and the exit codes: vigil --help',
  ].join('\n');
}

/** The data dir as the user gave it: `--data-dir d`, `VIGIL_DATA_DIR d`, or the default; a relative one resolved. */
function dataDirLabel(
  dataDir: string,
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
): string {
  const shown = isAbsolute(dataDir) ? dataDir : `${dataDir} (${resolve(dataDir)})`;
  if (flags['data-dir'] !== undefined) return `--data-dir ${shown}`;
  if ((env['VIGIL_DATA_DIR'] ?? '') !== '') return `VIGIL_DATA_DIR ${shown}`;
  return `the default data dir ${shown}`;
}

function reportFormat(format: string): ReportFormat {
  if (format === 'cyclonedx')
    throw new UsageError('vigil report: --format cyclonedx is for image, rootfs and fs scans');
  return format as ReportFormat;
}

function tableOrJson(format: string, command: string): 'table' | 'json' {
  if (format === 'table' || format === 'json') return format;
  throw new UsageError(`${command}: --format ${format} is for scans; use table or json`);
}

async function withPipeline(
  config: Config,
  out: Output,
  fn: (deployment: Deployment, pipeline: Awaited<ReturnType<typeof startPipeline>>) => Promise<number>,
): Promise<number> {
  const deployment = await open(config, out);
  try {
    const pipeline = await startPipeline(deployment, {
      entityType: config.entityType,
      consumerGroupPrefix: config.consumerGroupPrefix,
      allowedRegistries: config.allowedRegistries,
    });
    try {
      await pipeline.waitUntilCaughtUp(config.timeout);
      return await fn(deployment, pipeline);
    } finally {
      await pipeline.close();
    }
  } finally {
    await deployment.close();
  }
}

async function requireFreePort(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(`vigil up: ${host}:${port} is already in use (give another --port)`)
          : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
            ? new UsageError(`vigil up: --host ${host} is not an address of this machine (${err.code})`)
            : err,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

async function up(
  config: Config,
  out: Output,
  extra: Record<string, string | boolean | undefined>,
): Promise<number> {
  const port =
    typeof extra.port === 'string'
      ? positiveInt(extra.port, '--port', commandName('up'), true, 65535)
      : Number(process.env.PORT ?? 8080);
  const host = typeof extra.host === 'string' ? extra.host : (process.env.HOST ?? '127.0.0.1');
  // Before anything starts: a port in use found by the app's own listen came after the consumers had started, and
  // their shutdown and the framework's own error were logged before the one line that says what is wrong.
  await requireFreePort(host, port);
  const deployment = await open(config, out);
  let pipeline: Awaited<ReturnType<typeof startPipeline>>;
  try {
    pipeline = await startPipeline(deployment, {
      entityType: config.entityType,
      consumerGroupPrefix: config.consumerGroupPrefix,
      allowedRegistries: config.allowedRegistries,
      http: { port, host },
      signingKey: () =>
        loadSigningKey({ dataDir: config.dataDir, keyPath: config.signingKey, command: commandName('up') }),
      ...(config.ingestToken
        ? {
            runtimeIngest: {
              token: config.ingestToken,
              cluster: config.cluster,
              maxBodyBytes: config.ingestMaxBody,
              maxInFlight: config.ingestMaxInFlight,
              publishTimeoutMs: config.ingestPublishTimeout,
            },
          }
        : {}),
    });
  } catch (err) {
    await deployment.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`vigil up: ${host}:${port} is already in use (give another --port)`);
    }
    throw err;
  }
  out.warn(
    `vigil up: ${deployment.describe}; serving ${pipeline.url} (/healthz, /readyz, /metrics). Ctrl-C stops.`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await pipeline.close();
  await deployment.close();
  return 0;
}

async function policyInput(config: Config): Promise<PolicyInput> {
  let ignores: readonly IgnoreRule[] = [];
  if (config.ignoreFile) ignores = (await loadIgnoreFile(config.ignoreFile)).rules;
  return {
    ...(config.failOn ? { threshold: parseSeverityThreshold(config.failOn) } : {}),
    ignores,
    now: new Date(),
  };
}

function positiveInt(
  text: string,
  flag: string,
  command: string,
  zeroOk = false,
  max = 2_147_483_647,
): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  const min = zeroOk ? 0 : 1;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${command}: ${flag} takes a whole number from ${min} to ${max}, got "${text.slice(0, 40)}"`,
    );
  }
  return n;
}

/** Errors the user can act on: one line, exit code 2. */
export function isInputError(err: unknown): err is Error {
  return (
    err instanceof ConfigError ||
    err instanceof UsageError ||
    err instanceof DeploymentError ||
    (err instanceof Error && ['IgnoreFileError', 'DatabaseConnectionError'].includes(err.name))
  );
}

export async function run(): Promise<void> {
  // `vigil report --format json | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${isInputError(err) ? '' : 'vigil: '}${message}\n`);
    if (!isInputError(err) && process.env.VIGIL_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 2;
  }
  // Open handles of libraries (timers, sockets) must not keep a finished one-shot command alive.
  setTimeout(() => process.exit(), 200).unref();
}
