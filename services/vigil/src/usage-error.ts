/** A problem with what the user typed or pointed at: exit code 2 and this one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
