// Thrown for bad input at synth/construction time (cdk8s, Pulumi) and by the shared parsers.
// The message always names the offending field and value and says how to fix it.
export class ValidationError extends Error {
  constructor(
    /** Dotted path of the offending field, e.g. `objects[2].objectAlias`. */
    public readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ValidationError';
  }
}
