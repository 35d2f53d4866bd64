import { parseObjectsParameter } from './parse';
import { ParsedKeyVaultObject } from './types';

// The provider's per-object validation (azure-provider §1.3, pkg/provider/validate.go), with the
// upstream error texts and wrapping. Plain Errors: the runtime provider returns these messages.

function objectFormatError(obj: ParsedKeyVaultObject): string | undefined {
  const format = obj.objectFormat;
  if (format === '') return undefined;
  const lower = format.toLowerCase();
  if (lower !== 'pem' && lower !== 'pfx') return `invalid objectFormat: ${format}, should be PEM or PFX`;
  // Upstream compares the exact lower-case text here, so "PFX" on a cert passes (kept for compatibility).
  if (format === 'pfx' && obj.objectType !== 'secret')
    return 'PFX format only supported for objectType: secret';
  return undefined;
}

function objectEncodingError(obj: ParsedKeyVaultObject): string | undefined {
  const encoding = obj.objectEncoding;
  if (encoding === '') return undefined;
  if (obj.objectType !== 'secret') return 'objectEncoding only supported for objectType: secret';
  if (!['utf-8', 'hex', 'base64'].includes(encoding.toLowerCase())) {
    return `invalid objectEncoding: ${encoding}, should be hex, base64 or utf-8`;
  }
  return undefined;
}

/** The file name rules the provider applies to alias-or-name; undefined when the name is fine. */
export function fileNameError(fileName: string): string | undefined {
  if (fileName === '') return 'file name must not be empty';
  if (fileName.startsWith('/')) return 'file name must be a relative path';
  if (fileName.includes('..')) return "file name must not contain '..'";
  return undefined;
}

/**
 * Throws the provider's validation error for one parsed object, wrapped as
 * `failed to get objectType:<t>, objectName:<n>, objectVersion:<v>: <err>`.
 */
export function checkParsedObject(obj: ParsedKeyVaultObject): void {
  const problem =
    objectFormatError(obj) ?? objectEncodingError(obj) ?? fileNameError(obj.objectAlias || obj.objectName);
  if (problem !== undefined) {
    throw new Error(
      `failed to get objectType:${obj.objectType}, objectName:${obj.objectName}, objectVersion:${obj.objectVersion}: ${problem}`,
    );
  }
}

/**
 * Parses and validates the `objects` parameter in the provider's order: decode item 0, validate it,
 * decode item 1, ... so the first error is the one upstream reports.
 */
export function parseAndCheckObjectsParameter(text: string): ParsedKeyVaultObject[] {
  return parseObjectsParameter(text, (object) => checkParsedObject(object));
}
