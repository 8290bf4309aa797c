/**
 * SHA-256 of a text, in hex. node:crypto is loaded on the first call, not when a module that may
 * hash is imported: `streamqc analyze` of a file without incidents never pays for its twenty
 * internal modules.
 */
export function sha256Hex(text: string): string {
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(text).digest('hex');
}
