import {
  checkParsedObject,
  KeyVaultObject,
  KeyVaultObjectType,
  ObjectEncoding,
  ObjectFormat,
  parseAndCheckObjectsParameter,
  parseObjectsParameter,
  ParsedKeyVaultObject,
  renderObjectsParameter,
} from '../../lib/core/key-vault-objects';

const EMPTY: ParsedKeyVaultObject = {
  objectName: '',
  objectType: '',
  objectAlias: '',
  objectVersion: '',
  objectVersionHistory: 0,
  objectFormat: '',
  objectEncoding: '',
  filePermission: '',
};

// The provider's view of a typed object: absent fields are "" / 0.
function asParsed(object: KeyVaultObject): ParsedKeyVaultObject {
  return { ...EMPTY, ...object } as ParsedKeyVaultObject;
}

describe('renderObjectsParameter', () => {
  const objects: KeyVaultObject[] = [
    {
      objectName: 'secret1',
      objectType: KeyVaultObjectType.SECRET,
      objectAlias: 'SECRET_1',
      objectVersionHistory: 5,
      filePermission: '0755',
    },
    { objectName: 'key1', objectType: KeyVaultObjectType.KEY, objectVersion: '0123abcd' },
    {
      objectName: 'tls-cert',
      objectType: KeyVaultObjectType.SECRET,
      objectAlias: 'certs/app.pfx',
      objectFormat: ObjectFormat.PFX,
      objectEncoding: ObjectEncoding.BASE64,
    },
    { objectName: 'cert1', objectType: KeyVaultObjectType.CERT, objectAlias: 'with space: and #hash' },
    { objectName: 'null', objectType: KeyVaultObjectType.SECRET, objectVersion: '' },
  ];

  test('renders the array-of-documents shape the Azure provider documents', () => {
    expect(renderObjectsParameter(objects.slice(0, 2))).toBe(
      [
        'array:',
        '  - |',
        '    objectName: secret1',
        '    objectType: secret',
        '    objectAlias: SECRET_1',
        '    objectVersionHistory: 5',
        '    filePermission: 0755',
        '  - |',
        '    objectName: key1',
        '    objectType: key',
        '    objectVersion: 0123abcd',
        '',
      ].join('\n'),
    );
  });

  test('round-trips through the shared parser', () => {
    expect(parseObjectsParameter(renderObjectsParameter(objects))).toEqual(objects.map(asParsed));
  });

  test('quotes values a Go parser would not keep verbatim', () => {
    const text = renderObjectsParameter(objects.slice(3));
    expect(text).toContain('objectAlias: "with space: and #hash"');
    expect(text).toContain('objectName: "null"');
    expect(text).toContain('objectVersion: ""');
  });

  test('an empty list renders an empty array that parses to no objects', () => {
    expect(parseObjectsParameter(renderObjectsParameter([]))).toEqual([]);
  });
});

describe('parseObjectsParameter (azure-provider §1.2)', () => {
  test('keeps the raw text of plain scalars in string fields, as yaml.v3 does', () => {
    const [obj] = parseObjectsParameter(
      'array:\n  - |\n    objectName: true\n    objectType: secret\n    objectVersion: 00123\n    filePermission: 0755\n',
    );
    expect(obj).toEqual({
      ...EMPTY,
      objectName: 'true',
      objectType: 'secret',
      objectVersion: '00123',
      filePermission: '0755',
    });
  });

  test('trims every string field', () => {
    const [obj] = parseObjectsParameter(
      'array:\n  - |\n    objectName: "  padded  "\n    objectType: " secret"\n',
    );
    expect(obj.objectName).toBe('padded');
    expect(obj.objectType).toBe('secret');
  });

  test('converts objectVersionHistory like Go: decimal, legacy octal, null', () => {
    const parse = (v: string) =>
      parseObjectsParameter(`array:\n  - |\n    objectName: a\n    objectVersionHistory: ${v}\n`)[0]
        .objectVersionHistory;
    expect(parse('5')).toBe(5);
    expect(parse('010')).toBe(8);
    expect(parse('0x10')).toBe(16);
    expect(parse('~')).toBe(0);
    expect(() => parse('abc')).toThrow(
      'unmarshal failed for keyVaultObjects at index 0, error: yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `abc` into int32',
    );
    expect(() => parse('"5"')).toThrow('cannot unmarshal !!str `5` into int32');
  });

  test('ignores unknown fields and treats field names case-sensitively', () => {
    const [obj] = parseObjectsParameter(
      'array:\n  - |\n    objectname: a\n    objectName: b\n    extra: [1, 2]\n',
    );
    expect(obj).toEqual({ ...EMPTY, objectName: 'b' });
  });

  test('an empty array is no objects, not an error', () => {
    expect(parseObjectsParameter('array:\n')).toEqual([]);
    expect(parseObjectsParameter('array: []')).toEqual([]);
  });

  test('fails without the array: wrapper (a bare list)', () => {
    expect(() => parseObjectsParameter('- |\n  objectName: a\n')).toThrow(
      'failed to yaml unmarshal objects, error: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into types.StringArray',
    );
  });

  test('fails on an array item that is a map instead of a string', () => {
    expect(() => parseObjectsParameter('array:\n  - objectName: a\n    objectType: secret\n')).toThrow(
      'failed to yaml unmarshal objects, error: yaml: unmarshal errors:\n  line 2: cannot unmarshal !!map into string',
    );
  });

  test('reports the index of the item that fails to unmarshal', () => {
    expect(() => parseObjectsParameter('array:\n  - |\n    objectName: a\n  - |\n    [1, 2]\n')).toThrow(
      'unmarshal failed for keyVaultObjects at index 1, error: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into types.KeyVaultObject',
    );
  });

  test('reports YAML syntax errors with the upstream prefix', () => {
    expect(() => parseObjectsParameter('array: [\n')).toThrow(
      /^failed to yaml unmarshal objects, error: yaml: line \d+: /,
    );
  });

  test('fails on duplicate keys with the yaml.v3 text', () => {
    expect(() => parseObjectsParameter('array:\n  - |\n    objectName: a\n    objectName: b\n')).toThrow(
      'unmarshal failed for keyVaultObjects at index 0, error: yaml: unmarshal errors:\n  line 2: mapping key "objectName" already defined at line 1',
    );
  });

  test('drops null array items, as yaml.v3 does for a []string', () => {
    expect(parseObjectsParameter('array:\n  -\n  - ~\n  - |\n    objectName: a\n')).toEqual([
      { ...EMPTY, objectName: 'a' },
    ]);
  });

  test('shortens long values in type errors like yaml.v3', () => {
    expect(() => parseObjectsParameter('array:\n  - |\n    objectVersionHistory: 99999999999\n')).toThrow(
      'line 1: cannot unmarshal !!int `9999999...` into int32',
    );
  });
});

describe('parseAndCheckObjectsParameter', () => {
  test('reports the first failing item in upstream order (validate before decoding the next)', () => {
    // Item 0 decodes but fails validation; item 1 would fail to decode. Upstream reports item 0.
    expect(() => parseAndCheckObjectsParameter('array:\n  - |\n    other: a\n  - |\n    [1, 2]\n')).toThrow(
      'failed to get objectType:, objectName:, objectVersion:: file name must not be empty',
    );
    expect(parseAndCheckObjectsParameter('array:\n  - |\n    objectName: a\n')).toEqual([
      { ...EMPTY, objectName: 'a' },
    ]);
  });
});

describe('checkParsedObject (azure-provider §1.3)', () => {
  const secret: ParsedKeyVaultObject = { ...EMPTY, objectName: 'secret1', objectType: 'secret' };
  const wrap = (type: string, name: string, err: string) =>
    `failed to get objectType:${type}, objectName:${name}, objectVersion:: ${err}`;

  test('accepts a valid object, with case-insensitive format and encoding', () => {
    expect(() =>
      checkParsedObject({ ...secret, objectFormat: 'PFX', objectEncoding: 'Base64' }),
    ).not.toThrow();
  });

  test('rejects an unknown objectFormat', () => {
    expect(() => checkParsedObject({ ...secret, objectFormat: 'pkcs' })).toThrow(
      wrap('secret', 'secret1', 'invalid objectFormat: pkcs, should be PEM or PFX'),
    );
  });

  test('rejects pfx on a non-secret, but (upstream quirk) not upper-case PFX', () => {
    const cert = { ...secret, objectType: 'cert', objectName: 'c' };
    expect(() => checkParsedObject({ ...cert, objectFormat: 'pfx' })).toThrow(
      wrap('cert', 'c', 'PFX format only supported for objectType: secret'),
    );
    expect(() => checkParsedObject({ ...cert, objectFormat: 'PFX' })).not.toThrow();
  });

  test('rejects objectEncoding on a non-secret and unknown encodings', () => {
    expect(() => checkParsedObject({ ...secret, objectType: 'key', objectEncoding: 'hex' })).toThrow(
      wrap('key', 'secret1', 'objectEncoding only supported for objectType: secret'),
    );
    expect(() => checkParsedObject({ ...secret, objectEncoding: 'utf-16' })).toThrow(
      wrap('secret', 'secret1', 'invalid objectEncoding: utf-16, should be hex, base64 or utf-8'),
    );
  });

  test('applies the file name rules to alias-or-name', () => {
    expect(() => checkParsedObject({ ...secret, objectName: '' })).toThrow(
      wrap('secret', '', 'file name must not be empty'),
    );
    expect(() => checkParsedObject({ ...secret, objectAlias: '/etc/passwd' })).toThrow(
      wrap('secret', 'secret1', 'file name must be a relative path'),
    );
    expect(() => checkParsedObject({ ...secret, objectAlias: 'a/../../b' })).toThrow(
      wrap('secret', 'secret1', "file name must not contain '..'"),
    );
    expect(() => checkParsedObject({ ...secret, objectAlias: 'a..b' })).toThrow(
      "file name must not contain '..'",
    );
    expect(() => checkParsedObject({ ...secret, objectAlias: 'dir/file' })).not.toThrow();
  });

  test('includes the objectVersion in the wrapping', () => {
    expect(() => checkParsedObject({ ...secret, objectVersion: 'abc', objectFormat: 'x' })).toThrow(
      'failed to get objectType:secret, objectName:secret1, objectVersion:abc: invalid objectFormat: x',
    );
  });
});

describe('objects round trip with awkward values', () => {
  // Values a user may legitimately put in an alias or version; each must reach the provider verbatim.
  const awkward = [
    'plain',
    '0755',
    '1e3',
    'true',
    'yes',
    'null',
    '~',
    '-dash',
    'a: b',
    'hash #x',
    "quote's",
    'double"quote',
    'back\\slash',
    'tab\there',
    'ünïcödé/ファイル',
    '[bracket]',
    '{brace}',
    '*star',
    '&amp',
    '!bang',
    '%pct',
    '@at',
    '`tick',
    '? q',
    '| pipe',
    '> gt',
  ];

  test.each(awkward)('alias %p survives render → parse', (alias) => {
    const object: KeyVaultObject = {
      objectName: 'n',
      objectType: KeyVaultObjectType.SECRET,
      objectAlias: alias,
    };
    const [parsed] = parseObjectsParameter(renderObjectsParameter([object]));
    expect(parsed.objectAlias).toBe(alias);
  });
});
