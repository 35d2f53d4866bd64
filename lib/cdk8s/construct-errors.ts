import { IConstruct } from 'constructs';
import { ValidationError } from '../core';

/**
 * Runs `rule` and reports a ValidationError it throws under `scope`'s construct path, so with many
 * teams in one app the message says which construct was given the bad input.
 */
export function atConstruct<T>(scope: IConstruct, rule: () => T): T {
  try {
    return rule();
  } catch (error) {
    throw error instanceof ValidationError ? error.atConstructPath(scope.node.path) : error;
  }
}
