// Database URLs appear in error messages and logs; they must never carry the password there.

/** The URL with its password replaced by `***`, for messages. Unparsable input is masked conservatively. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]*):[^@/]*@/, '://$1:***@');
  }
}

/** Parses a postgres URL, failing with a message that names the (redacted) input. */
export function parseDatabaseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(
      `invalid database URL "${redactUrl(url)}": expected postgresql://user[:password]@host[:port]/database`,
    );
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') {
    throw new Error(
      `invalid database URL "${redactUrl(url)}": the scheme must be postgresql:// (got ${u.protocol}//)`,
    );
  }
  return u;
}

/** The same server with another database name (admin work connects to one database to create another). */
export function withDatabase(url: string, database: string): string {
  const u = parseDatabaseUrl(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

/** The database name of a URL ('' when it names none, which libpq reads as "same as the user"). */
export function databaseName(url: string): string {
  return decodeURIComponent(parseDatabaseUrl(url).pathname.replace(/^\//, ''));
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

/** Database names become quoted identifiers in DDL; keep them to a plain, unsurprising alphabet. */
export function checkDatabaseName(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(
      `invalid database name "${name}": use 1-63 characters of letters, digits, "_" or "-", starting with a letter or "_"`,
    );
  }
  return name;
}

export function quoteIdentifier(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
