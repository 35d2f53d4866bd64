import { ValidationError, ValidationErrors } from '../../../lib/core';

describe('ValidationError', () => {
  test('one problem reads "field: detail", and keeps that form when a construct path is added', () => {
    const error = new ValidationError('objects[0].objectName', '"a_b" is not valid');
    expect(error.message).toBe('objects[0].objectName: "a_b" is not valid');
    expect(error.problems).toEqual([{ field: 'objects[0].objectName', detail: '"a_b" is not valid' }]);
    const located = error.atConstructPath('team-a/orders/SecretProviderClass');
    expect(located.message).toBe(
      '[team-a/orders/SecretProviderClass] objects[0].objectName: "a_b" is not valid',
    );
    expect(located).toBeInstanceOf(ValidationError);
    expect(located.name).toBe('ValidationError');
    expect(located.field).toBe('objects[0].objectName');
    expect(located.constructPath).toBe('team-a/orders/SecretProviderClass');
    expect(located.atConstructPath('elsewhere')).toBe(located);
  });

  test('several problems are counted and listed one a line', () => {
    const error = ValidationError.of([
      { field: 'a', detail: 'first' },
      { field: 'b', detail: 'second' },
    ]);
    expect(error.message).toBe('2 problems; fix them together:\n  a: first\n  b: second');
    expect(error.field).toBe('a');
  });
});

describe('ValidationErrors', () => {
  test('keeps every ValidationError, returns what passing rules return, and throws them together', () => {
    const errors = new ValidationErrors();
    expect(errors.check(() => 42)).toBe(42);
    expect(
      errors.check(() => {
        throw new ValidationError('x', 'bad');
      }),
    ).toBeUndefined();
    errors.add('y', 'also bad');
    expect(errors.failed).toBe(true);
    expect(() => errors.throwIfAny()).toThrow('2 problems; fix them together:\n  x: bad\n  y: also bad');
  });

  test('lets any other error through at once: only validation problems are collected', () => {
    const errors = new ValidationErrors();
    expect(() =>
      errors.check(() => {
        throw new TypeError('a bug');
      }),
    ).toThrow(TypeError);
    expect(() => new ValidationErrors().throwIfAny()).not.toThrow();
  });
});
