import * as pulumi from '@pulumi/pulumi';

// Args users naturally take from other resources (a Namespace's name, a random suffix) are Inputs. Their
// rules run on the value as soon as it is known: at construction for a plain value, otherwise when the
// engine resolves it (at preview when it is known then, at the latest during `up`, before anything that
// depends on it is sent to a provider).

/** `value`, checked by `check` now when it is a plain string, else once it resolves. */
export function checkedInput<T>(value: pulumi.Input<T>, check: (resolved: T) => void): pulumi.Input<T> {
  if (!pulumi.Output.isInstance(value) && !isPromise(value)) {
    check(value as T);
    return value;
  }
  return pulumi.output(value).apply((resolved) => {
    check(resolved as T);
    return resolved as T;
  }) as pulumi.Input<T>;
}

/** The value of `value` when it is known at construction (a plain value), else `undefined`. */
export function knownValue<T>(value: pulumi.Input<T> | undefined): T | undefined {
  return value === undefined || pulumi.Output.isInstance(value) || isPromise(value)
    ? undefined
    : (value as T);
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === 'function';
}
