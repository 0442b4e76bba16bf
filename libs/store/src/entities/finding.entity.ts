import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'findings' })
export class FindingEntity {
  @PrimaryColumn({ type: 'text' })
  scope!: string;

  @PrimaryColumn({ type: 'text', name: 'finding_id' })
  findingId!: string;

  @Column({ type: 'text' })
  source!: string;

  @Column({ type: 'text', name: 'rule_id' })
  ruleId!: string;

  @Column({ type: 'text' })
  severity!: string;

  @Column({ type: 'text' })
  scanner!: string;

  @Column({ type: 'text', name: 'target_key' })
  targetKey!: string;

  @Column({ type: 'text', name: 'last_scan_id', nullable: true })
  lastScanId!: string | null;

  @Column({ type: 'text', name: 'asset_key' })
  assetKey!: string;

  @Column({ type: 'text', array: true, name: 'pci_requirements' })
  pciRequirements!: string[];

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'timestamptz', name: 'first_seen' })
  firstSeen!: Date;

  @Column({ type: 'timestamptz', name: 'last_seen' })
  lastSeen!: Date;

  @Column({ type: 'timestamptz', name: 'resolved_at', nullable: true })
  resolvedAt!: Date | null;

  @Column({ type: 'text', name: 'resolved_by_scan', nullable: true })
  resolvedByScan!: string | null;

  @Column({ type: 'bytea' })
  payload!: Buffer;
}
