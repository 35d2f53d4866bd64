// Thrown for bad input at synth/construction time (cdk8s, Pulumi) and by the shared parsers.
// Every message names the offending field and value and says how to fix it; a front end adds the
// construct path, so with many teams in one app the failing construct is named too.

/** One bad field: where it is and what to do about it. */
export interface ValidationProblem {
  /** Dotted path of the offending field, e.g. `objects[2].objectAlias`. */
  readonly field: string;
  /** What is wrong with the value and how to fix it. */
  readonly detail: string;
}

/** Options of a ValidationError beyond its first problem. */
export interface ValidationErrorOptions {
  /** Every problem, when a collecting check found several. @default - the one problem of the constructor */
  readonly problems?: readonly ValidationProblem[];
  /** Path of the construct whose input is bad. @default - none (a core function called directly) */
  readonly constructPath?: string;
}

export class ValidationError extends Error {
  /** Several problems at once, optionally under the path of the construct that was given the input. */
  public static of(problems: readonly ValidationProblem[], constructPath?: string): ValidationError {
    if (problems.length === 0) throw new Error('ValidationError.of needs at least one problem');
    return new ValidationError(problems[0].field, problems[0].detail, { problems, constructPath });
  }

  /** Dotted path of the (first) offending field. */
  public readonly field: string;
  /** Every problem this error reports, in the order they were found. */
  public readonly problems: readonly ValidationProblem[];
  /** Path of the construct whose input is bad, when a front end added it. */
  public readonly constructPath?: string;

  constructor(field: string, detail: string, options: ValidationErrorOptions = {}) {
    const problems = options.problems ?? [{ field, detail }];
    super(formatProblems(problems, options.constructPath));
    this.name = 'ValidationError';
    this.field = field;
    this.problems = problems;
    if (options.constructPath !== undefined) this.constructPath = options.constructPath;
  }

  /** The same problems, reported for the construct at `constructPath` (kept if one is already named). */
  public atConstructPath(constructPath: string): ValidationError {
    if (this.constructPath !== undefined) return this;
    return ValidationError.of(this.problems, constructPath);
  }
}

/** `field: detail`, or a count and one problem a line; `[construct path] ` in front when known. */
function formatProblems(problems: readonly ValidationProblem[], constructPath?: string): string {
  const at = constructPath ? `[${constructPath}] ` : '';
  if (problems.length === 1) return `${at}${problems[0].field}: ${problems[0].detail}`;
  const lines = problems.map((problem) => `  ${problem.field}: ${problem.detail}`);
  return `${at}${problems.length} problems; fix them together:\n${lines.join('\n')}`;
}

/**
 * Collects the problems of independent rules so a user sees all of them at once (aws-cdk-lib's
 * bucket-name checks): each rule still throws a ValidationError; `check` keeps it and goes on.
 */
export class ValidationErrors {
  private readonly found: ValidationProblem[] = [];

  /** Runs `rule`; returns its result, or undefined after recording the problems it threw. */
  public check<T>(rule: () => T): T | undefined {
    try {
      return rule();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      this.found.push(...error.problems);
      return undefined;
    }
  }

  /** Records a problem found without a throwing rule. */
  public add(field: string, detail: string): void {
    this.found.push({ field, detail });
  }

  /** True once any rule failed. */
  public get failed(): boolean {
    return this.found.length > 0;
  }

  /** Throws one ValidationError with every problem found so far, if there is any. */
  public throwIfAny(): void {
    if (this.found.length > 0) throw ValidationError.of(this.found);
  }
}
