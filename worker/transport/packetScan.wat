;; The transport analyser's common packet, in WebAssembly: a packet of an elementary stream with
;; nothing for TR 101 290 to look at — in sync, no transport error, no payload unit start, not
;; scrambled, no PCR or discontinuity flag, its continuity counter the last one plus one — is
;; counted here, and so is a null packet. Any other packet stops the scan and is read by
;; TsAnalyzer.ts, which owns the rules; it sets which PIDs may be scanned here (class) and reads
;; the per-PID state below through views of this memory. For video PIDs whose captions are read
;; (class 2), a packet is only passed over when its payload holds no start code (00 00 01) and
;; none begins in the two bytes kept from the PID's previous payload, which are then replaced —
;; what CaptionScanner.skipPlain does with a piece it need not read.
;; Built into packetScanWasm.ts by `npm run build:wasm` (scripts/build-wasm.mjs).
(module
  (memory (export "memory") 3)
  ;; Per PID (13 bits), at fixed places:
  ;;   0x00000 lastCc     i8   the last continuity counter, −1 before the first packet
  ;;   0x02000 lastFlags  u8   1: the last packet repeated the one before; 2: it had a payload
  ;;   0x04000 class      u8   0: TsAnalyzer reads every packet; 1: scanned here; 2: scanned here
  ;;                           with its captions' start codes; 3: the null PID
  ;;   0x06000 tail       u8×2 class 2: the last two payload bytes
  ;;   0x0a000 packets    u32  packets counted, by either side
  ;;   0x12000 …          the bytes being read (PacketScan.ts WINDOW: 64 KB)
  ;; Null packets counted since TsAnalyzer last took them.
  (global $nulls (export "nulls") (mut i32) (i32.const 0))

  ;; The first start code (00 00 01) in [$from, $end), looking at every third byte as
  ;; captions.ts startCode does; −1 when there is none.
  (func $startCode (param $from i32) (param $end i32) (result i32)
    (local $i i32) (local $b i32)
    (local.set $i (i32.add (local.get $from) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $i)))
        (if (i32.gt_u (local.get $b) (i32.const 1))
          (then (local.set $i (i32.add (local.get $i) (i32.const 3))) (br $next)))
        (if (i32.eqz (local.get $b))
          (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $next)))
        (if (i32.and
              (i32.eqz (i32.load8_u (i32.sub (local.get $i) (i32.const 1))))
              (i32.eqz (i32.load8_u (i32.sub (local.get $i) (i32.const 2)))))
          (then (return (i32.sub (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 3)))
        (br $next)))
    (i32.const -1))

  ;; Counts packets from $at while each is one of those above and whole before $end; returns where
  ;; it stopped (the first packet TsAnalyzer must read, or the end of the whole packets).
  (func (export "scan") (param $at i32) (param $end i32) (result i32)
    (local $b1 i32) (local $b3 i32) (local $pid i32) (local $class i32) (local $afc i32)
    (local $cc i32) (local $last i32) (local $payload i32) (local $length i32)
    (local $packetEnd i32) (local $tail i32) (local $p0 i32) (local $p1 i32) (local $t0 i32)
    (local $t1 i32)
    (block $stop
      (loop $next
        (local.set $packetEnd (i32.add (local.get $at) (i32.const 188)))
        (br_if $stop (i32.gt_u (local.get $packetEnd) (local.get $end)))
        (br_if $stop (i32.ne (i32.load8_u (local.get $at)) (i32.const 0x47)))
        (local.set $b1 (i32.load8_u offset=1 (local.get $at)))
        (local.set $pid
          (i32.or (i32.shl (i32.and (local.get $b1) (i32.const 0x1f)) (i32.const 8))
                  (i32.load8_u offset=2 (local.get $at))))
        (local.set $class (i32.load8_u offset=0x4000 (local.get $pid)))
        ;; A transport error: TsAnalyzer counts it, null or not.
        (br_if $stop (i32.and (local.get $b1) (i32.const 0x80)))
        (if (i32.eq (local.get $class) (i32.const 3))
          (then
            (global.set $nulls (i32.add (global.get $nulls) (i32.const 1)))
            (local.set $at (local.get $packetEnd))
            (br $next)))
        (br_if $stop (i32.or (i32.eqz (local.get $class)) (i32.and (local.get $b1) (i32.const 0x40))))
        (local.set $b3 (i32.load8_u offset=3 (local.get $at)))
        (br_if $stop (i32.and (local.get $b3) (i32.const 0xc0)))
        (local.set $afc (i32.and (i32.shr_u (local.get $b3) (i32.const 4)) (i32.const 3)))
        (br_if $stop (i32.eqz (local.get $afc)))
        (local.set $cc (i32.and (local.get $b3) (i32.const 0x0f)))
        (local.set $payload (i32.add (local.get $at) (i32.const 4)))
        (if (i32.and (local.get $afc) (i32.const 2))
          (then
            (local.set $length (i32.load8_u offset=4 (local.get $at)))
            ;; A PCR or a discontinuity indicator: TsAnalyzer's.
            (br_if $stop
              (i32.and (i32.ne (local.get $length) (i32.const 0))
                       (i32.ne (i32.and (i32.load8_u offset=5 (local.get $at)) (i32.const 0x90)) (i32.const 0))))
            (local.set $payload (i32.add (local.get $at) (i32.add (i32.const 5) (local.get $length))))))
        (local.set $last (i32.load8_s (local.get $pid)))
        (br_if $stop (i32.lt_s (local.get $last) (i32.const 0)))
        (if (i32.and (local.get $afc) (i32.const 1))
          (then
            (br_if $stop
              (i32.ne (local.get $cc) (i32.and (i32.add (local.get $last) (i32.const 1)) (i32.const 0x0f))))
            (if (i32.and (i32.eq (local.get $class) (i32.const 2))
                         (i32.lt_u (local.get $payload) (local.get $packetEnd)))
              (then
                (br_if $stop (i32.lt_u (i32.sub (local.get $packetEnd) (local.get $payload)) (i32.const 2)))
                (local.set $tail (i32.add (i32.const 0x6000) (i32.shl (local.get $pid) (i32.const 1))))
                (local.set $t0 (i32.load8_u (local.get $tail)))
                (local.set $t1 (i32.load8_u offset=1 (local.get $tail)))
                (local.set $p0 (i32.load8_u (local.get $payload)))
                (local.set $p1 (i32.load8_u offset=1 (local.get $payload)))
                ;; A start code begun in the kept bytes and ending in this payload's first two.
                (br_if $stop
                  (i32.and (i32.eqz (i32.or (local.get $t0) (local.get $t1))) (i32.eq (local.get $p0) (i32.const 1))))
                (br_if $stop
                  (i32.and (i32.eqz (i32.or (local.get $t1) (local.get $p0))) (i32.eq (local.get $p1) (i32.const 1))))
                (br_if $stop
                  (i32.ge_s (call $startCode (local.get $payload) (local.get $packetEnd)) (i32.const 0)))
                (i32.store8 (local.get $tail) (i32.load8_u offset=186 (local.get $at)))
                (i32.store8 offset=1 (local.get $tail) (i32.load8_u offset=187 (local.get $at)))))
            (i32.store8 offset=0x2000 (local.get $pid) (i32.const 2)))
          (else
            (br_if $stop (i32.ne (local.get $cc) (local.get $last)))
            (i32.store8 offset=0x2000 (local.get $pid) (i32.const 0))))
        (i32.store8 (local.get $pid) (local.get $cc))
        (i32.store offset=0xa000 (i32.shl (local.get $pid) (i32.const 2))
          (i32.add (i32.load offset=0xa000 (i32.shl (local.get $pid) (i32.const 2))) (i32.const 1)))
        (local.set $at (local.get $packetEnd))
        (br $next)))
    (local.get $at))
)
