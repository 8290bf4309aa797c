#!/bin/sh
# Builds the decode-only FFmpeg the worker image ships: what streamqc's converter and probe use
# (the protocols, demuxers, decoders and filters below), nothing else — no encoders beyond the
# raw outputs, no devices, no GPU, no fonts, no speech synthesis. Used by worker/Dockerfile, and
# runnable on any Debian machine to check the same build against the test clips:
#   worker/ffmpeg/build-minimal.sh SOURCE_DIR PREFIX
# Build dependencies (Debian): build-essential nasm pkg-config libgnutls28-dev libsrt-gnutls-dev
# libxml2-dev zlib1g-dev.
set -eu
src="$1"
prefix="$2"
cd "$src"
./configure \
  --prefix="$prefix" \
  --disable-everything --disable-autodetect --disable-doc --disable-debug --disable-ffplay \
  --disable-avdevice --disable-postproc --enable-small \
  --enable-ffmpeg --enable-ffprobe --enable-swscale --enable-swresample --enable-avfilter \
  --enable-gnutls --enable-libsrt --enable-libxml2 --enable-zlib --enable-pthreads --enable-x86asm \
  --enable-protocol=file,pipe,data,crypto,http,https,httpproxy,tcp,tls,udp,rtp,rtmp,rtmps,srt \
  --enable-demuxer=mpegts,mpegtsraw,hls,dash,mov,matroska,flv,live_flv,rtsp,rtp,sdp,aac,ac3,eac3,mp3,h264,hevc,mpegps,mpegvideo,wav,ogg \
  --enable-decoder=h264,hevc,mpeg2video,mpeg1video,mpeg4,vp8,vp9,aac,aac_latm,ac3,eac3,mp2,mp3,opus,vorbis,flac,pcm_s16le,pcm_s16be,pcm_s24le,pcm_f32le \
  --enable-parser=h264,hevc,mpegvideo,mpeg4video,vp8,vp9,aac,aac_latm,ac3,mpegaudio,opus,vorbis,flac \
  --enable-filter=extractplanes,scale,showinfo,ashowinfo,aformat,aresample,asetnsamples,format,null,anull,copy,acopy \
  --enable-encoder=rawvideo,pcm_f32le,pcm_s16le \
  --enable-muxer=rawvideo,pcm_f32le,pcm_s16le,null \
  --enable-bsf=h264_mp4toannexb,hevc_mp4toannexb,aac_adtstoasc,null
make -j"$(nproc)"
make install
