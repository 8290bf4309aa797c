/**
 * Where a stream's media records live: its latest thumbnail, the evidence of each alarm it raised
 * and its loudness log.
 * Locally a folder of the data directory; on AWS the stack's media bucket (S3). Workers write,
 * the API reads (locally the bytes, on AWS a short-lived presigned link). Keys are built here
 * only, from ids the registry issued, so no request can name a path of its own.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { recordAwsCalls } from '../awsCallLog.js';

/** What the API hands a reader: the bytes, or a link to them. */
export type MediaRead = { body: Buffer; contentType: string } | { link: string } | null;

export interface MediaStore {
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  read(key: string): Promise<MediaRead>;
  /** The bytes themselves (for the API's own use, e.g. the loudness log); null when absent. */
  bytes(key: string): Promise<Buffer | null>;
}

export const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  json: 'application/json',
};

/** A stream's thumbnail. */
export const thumbnailKey = (streamId: string) => `streams/${streamId}/thumbnail.jpg`;

/** An alarm's evidence (`id` from evidenceId, `ext` jpg or json). */
export const evidenceKey = (streamId: string, id: string, ext: string) =>
  `streams/${streamId}/evidence/${id}.${ext}`;

/** Evidence ids as the API accepts them in a path. */
export const EVIDENCE_ID = /^ev_[0-9a-f]{20}\.(jpg|json)$/;

/** Files under a folder (local mode). */
export class FolderMediaStore implements MediaStore {
  constructor(private readonly dir: string) {}

  async put(key: string, body: Buffer, _contentType?: string): Promise<void> {
    const path = join(this.dir, key);
    await mkdir(dirname(path), { recursive: true });
    // Written beside and renamed: a reader never sees half a picture.
    const partial = `${path}.${process.pid}.part`;
    await writeFile(partial, body);
    await rename(partial, path);
  }

  async read(key: string): Promise<MediaRead> {
    const body = await this.bytes(key);
    if (!body) return null;
    return { body, contentType: CONTENT_TYPES[key.split('.').pop() ?? ''] ?? 'application/octet-stream' };
  }

  async bytes(key: string): Promise<Buffer | null> {
    try {
      return await readFile(join(this.dir, key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }
}

/** Seconds a presigned link to a picture stays valid. */
const LINK_SECONDS = 300;

/** The stack's media bucket; the SDK is loaded on first use (local mode never needs it). */
export class S3MediaStore implements MediaStore {
  private client: Promise<import('@aws-sdk/client-s3').S3Client> | null = null;

  constructor(
    private readonly bucket: string,
    private readonly endpoint?: string,
  ) {}

  private s3() {
    this.client ??= import('@aws-sdk/client-s3').then(({ S3Client }) => {
      const client = new S3Client({
        ...(this.endpoint ? { endpoint: this.endpoint, forcePathStyle: true } : {}),
      });
      recordAwsCalls(client, 's3');
      return client;
    });
    return this.client;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await (await this.s3()).send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  async read(key: string): Promise<MediaRead> {
    const client = await this.s3();
    const { HeadObjectCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      await client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || status === 403) return null;
      throw e;
    }
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    return {
      link: await getSignedUrl(client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        expiresIn: LINK_SECONDS,
      }),
    };
  }

  async bytes(key: string): Promise<Buffer | null> {
    const client = await this.s3();
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return got.Body ? Buffer.from(await got.Body.transformToByteArray()) : null;
    } catch (e) {
      // Without s3:ListBucket, S3 answers a missing key with 403, not 404.
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || status === 403) return null;
      throw e;
    }
  }
}

/**
 * The store this process uses: none with STREAMQC_MEDIA=off (no thumbnails, no evidence: the
 * converter then has no thumbnail branch), else STREAMQC_MEDIA_BUCKET (AWS; STREAMQC_S3_ENDPOINT
 * for another endpoint), else STREAMQC_MEDIA_DIR (local), else none.
 */
export function mediaStoreFrom(env: Record<string, string | undefined> = process.env): MediaStore | null {
  if (env.STREAMQC_MEDIA === 'off') return null;
  if (env.STREAMQC_MEDIA_BUCKET) return new S3MediaStore(env.STREAMQC_MEDIA_BUCKET, env.STREAMQC_S3_ENDPOINT);
  if (env.STREAMQC_MEDIA_DIR) return new FolderMediaStore(env.STREAMQC_MEDIA_DIR);
  return null;
}
