/**
 * Secret references in stream URLs: `{{secret:NAME}}` or `{{secret:NAME:KEY}}` stands for the value
 * of the Secrets Manager secret NAME (its SecretString, or the KEY field of it as JSON), so a
 * signed-URL token or a password need not be stored in the registry at all. The worker resolves
 * them when it opens the stream (worker/agent/secrets.ts). Names start with `streamqc/` (the task
 * role may read only those), and a secret serves only the owner named in its `streamqc:owner` tag.
 * References may stand in the user info, the path and the query, never in the host: the address
 * the API checked is the one the worker connects to. Values are URL-encoded where they are put.
 */
import { UrlPolicyError } from './urlPolicy.js';

/** Where secrets may be read from: names under this prefix only. */
export const SECRET_NAME_PREFIX = 'streamqc/';
/** The tag that says which owner may use a secret (the owner as the API knows it). */
export const SECRET_OWNER_TAG = 'streamqc:owner';

export interface SecretRef {
  /** The reference as written, `{{secret:…}}`. */
  text: string;
  name: string;
  /** A field of the secret's JSON value; absent: the whole SecretString. */
  key?: string;
}

const REF = /\{\{secret:([^:{}]*)(?::([^:{}]*))?\}\}/g;
const NAME = /^streamqc\/[A-Za-z0-9/_+=.@-]{1,500}$/;
const KEY = /^[A-Za-z0-9_.-]{1,128}$/;

/** The references in a URL (syntax checked); throws UrlPolicyError for a malformed one. */
export function secretRefs(url: string): SecretRef[] {
  const refs = [...url.matchAll(REF)].map((m) => ({
    text: m[0],
    name: m[1],
    ...(m[2] !== undefined ? { key: m[2] } : {}),
  }));
  const rest = url.replace(REF, '');
  if (rest.includes('{{secret:'))
    throw new UrlPolicyError(
      'url_invalid',
      'malformed secret reference: write {{secret:NAME}} or {{secret:NAME:KEY}}',
    );
  for (const ref of refs) {
    if (!NAME.test(ref.name))
      throw new UrlPolicyError(
        'url_invalid',
        `secret name "${ref.name}" must start with ${SECRET_NAME_PREFIX} (letters, digits and /_+=.@- after it)`,
      );
    if (ref.key !== undefined && !KEY.test(ref.key))
      throw new UrlPolicyError('url_invalid', `secret key "${ref.key}": 1–128 of A-Z a-z 0-9 _ . -`);
  }
  if (refs.length > 4) throw new UrlPolicyError('url_invalid', 'at most 4 secret references in a URL');
  return refs;
}

/** The URL with every reference replaced by `value(ref)`, URL-encoded. */
export function fillSecrets(url: string, value: (ref: SecretRef) => string): string {
  return url.replace(REF, (text, name: string, key?: string) =>
    encodeURIComponent(value({ text, name, ...(key !== undefined ? { key } : {}) })),
  );
}

/**
 * The URL the API checks for a URL with references: placeholders filled. Throws when a reference
 * could change the host (two different fillings give two hosts).
 */
export function checkableUrl(url: string): string {
  if (secretRefs(url).length === 0) return url;
  const a = fillSecrets(url, () => 'a');
  const b = fillSecrets(url, () => 'b');
  const host = (u: string) => {
    try {
      return new URL(u).host;
    } catch {
      return null;
    }
  };
  if (host(a) === null || host(a) !== host(b))
    throw new UrlPolicyError(
      'url_invalid',
      'secret references may stand in the user info, path or query of a URL, not in its host',
    );
  return a;
}
