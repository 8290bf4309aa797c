/**
 * GET /streams/{id}/thumbnail and GET /streams/{id}/evidence/{file}: a stream's pictures, for its
 * owner only. Locally the bytes; on AWS a redirect to a presigned S3 link valid five minutes.
 */
import { EVIDENCE_ID, evidenceKey, thumbnailKey } from '../../shared/media/MediaStore.js';
import { ApiError, type ApiResponse } from '../types.js';
import { ownedStream, shown, type UseCaseContext } from './common.js';

export async function getThumbnail(ctx: UseCaseContext, id: string, owner: string): Promise<ApiResponse> {
  await ownedStream(ctx, id, owner);
  return served(ctx, thumbnailKey(id), 'no thumbnail yet: the stream has shown no picture');
}

export async function getEvidence(
  ctx: UseCaseContext,
  id: string,
  file: string,
  owner: string,
): Promise<ApiResponse> {
  await ownedStream(ctx, id, owner);
  if (!EVIDENCE_ID.test(file)) throw new ApiError(404, 'not_found', `no evidence ${shown(file)}`);
  const [name, ext] = file.split('.');
  return served(ctx, evidenceKey(id, name, ext), `no evidence ${file}`);
}

async function served(ctx: UseCaseContext, key: string, missing: string): Promise<ApiResponse> {
  if (!ctx.media) throw new ApiError(404, 'not_found', 'this deployment keeps no pictures');
  const read = await ctx.media.read(key);
  if (!read) throw new ApiError(404, 'not_found', missing);
  const fresh = { 'cache-control': 'private, no-store' };
  if ('link' in read) return { status: 302, headers: { ...fresh, location: read.link }, body: null };
  return {
    status: 200,
    headers: fresh,
    body: null,
    raw: { bytes: read.body, contentType: read.contentType },
  };
}
