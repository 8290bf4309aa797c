;; The detectors' inner loops over pictures and sound, in WebAssembly (SIMD where the data is
;; dense). Each computes exactly what the JavaScript it replaced computed: integer sums are
;; order-free, maxima keep "only a larger value replaces" (a NaN never wins), and floating-point
;; sums keep the JavaScript's order per channel (one SIMD lane per channel at most).
;; Built into kernelsWasm.ts by `npm run build:wasm` (scripts/build-wasm.mjs); kernels.ts loads it.
(module
  (memory (export "memory") 16)
  ;; Second results of kernels that have two.
  (global $second (export "second") (mut i32) (i32.const 0))
  (global $secondF (export "secondF") (mut f64) (f64.const 0))

  ;; Horizontal sum of an i32x4.
  (func $sum4 (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; |a − b| of two bytes.
  (func $absDiff (param $a i32) (param $b i32) (result i32)
    (local $d i32)
    (local.set $d (i32.sub (local.get $a) (local.get $b)))
    (select (local.get $d) (i32.sub (i32.const 0) (local.get $d)) (i32.ge_s (local.get $d) (i32.const 0))))

  ;; video.corruption: on rows 0, rowStep, 2·rowStep … of a width×height picture at $ptr, the sum
  ;; of |p[x] − p[x−1]| over x in [1, width); `second` gets the part at x = k·grid (block edges).
  (func (export "steps") (param $ptr i32) (param $width i32) (param $height i32) (param $grid i32)
    (param $rowStep i32) (result i32)
    (local $y i32) (local $row i32) (local $x i32) (local $end i32) (local $d i32) (local $n i32)
    (local $total i32) (local $edges i32) (local $vecEnd i32)
    (local $mask v128) (local $v v128) (local $u v128) (local $dv v128)
    (local $rowTotal v128) (local $rowEdges v128) (local $accTotal v128) (local $accEdges v128)
    ;; Edge lanes of 16 bytes starting at a multiple of 16; other grids go byte by byte.
    (local.set $vecEnd (i32.and (local.get $width) (i32.const -16)))
    (if (i32.eq (local.get $grid) (i32.const 16))
      (then (local.set $mask (v128.const i8x16 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)))
      (else (if (i32.eq (local.get $grid) (i32.const 8))
        (then (local.set $mask (v128.const i8x16 -1 0 0 0 0 0 0 0 -1 0 0 0 0 0 0 0)))
        (else (if (i32.eq (local.get $grid) (i32.const 4))
          (then (local.set $mask (v128.const i8x16 -1 0 0 0 -1 0 0 0 -1 0 0 0 -1 0 0 0)))
          (else (local.set $vecEnd (i32.const 0))))))))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_s (local.get $y) (local.get $height)))
      (local.set $row (i32.add (local.get $ptr) (i32.mul (local.get $y) (local.get $width))))
      ;; Byte by byte up to the first multiple of 16 (or the whole row).
      (local.set $x (i32.const 1))
      (local.set $end (select (i32.const 16) (local.get $width) (i32.ge_s (local.get $vecEnd) (i32.const 16))))
      (block $headDone (loop $head
        (br_if $headDone (i32.ge_s (local.get $x) (local.get $end)))
        (local.set $d (call $absDiff
          (i32.load8_u (i32.add (local.get $row) (local.get $x)))
          (i32.load8_u (i32.sub (i32.add (local.get $row) (local.get $x)) (i32.const 1)))))
        (local.set $total (i32.add (local.get $total) (local.get $d)))
        (if (i32.eqz (i32.rem_u (local.get $x) (local.get $grid)))
          (then (local.set $edges (i32.add (local.get $edges) (local.get $d)))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $head)))
      ;; Sixteen at a time; the 16-bit lane sums are carried into 32 bits every 64 vectors.
      (local.set $rowTotal (v128.const i64x2 0 0))
      (local.set $rowEdges (v128.const i64x2 0 0))
      (local.set $n (i32.const 0))
      (block $vecDone (loop $vec
        (br_if $vecDone (i32.ge_s (local.get $x) (local.get $vecEnd)))
        (local.set $v (v128.load (i32.add (local.get $row) (local.get $x))))
        (local.set $u (v128.load (i32.sub (i32.add (local.get $row) (local.get $x)) (i32.const 1))))
        (local.set $dv (i8x16.sub_sat_u (i8x16.max_u (local.get $v) (local.get $u))
                                        (i8x16.min_u (local.get $v) (local.get $u))))
        (local.set $rowTotal (i16x8.add (local.get $rowTotal) (i16x8.extadd_pairwise_i8x16_u (local.get $dv))))
        (local.set $rowEdges (i16x8.add (local.get $rowEdges)
          (i16x8.extadd_pairwise_i8x16_u (v128.and (local.get $dv) (local.get $mask)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (if (i32.eq (local.get $n) (i32.const 64))
          (then
            (local.set $accTotal (i32x4.add (local.get $accTotal) (i32x4.extadd_pairwise_i16x8_u (local.get $rowTotal))))
            (local.set $accEdges (i32x4.add (local.get $accEdges) (i32x4.extadd_pairwise_i16x8_u (local.get $rowEdges))))
            (local.set $rowTotal (v128.const i64x2 0 0))
            (local.set $rowEdges (v128.const i64x2 0 0))
            (local.set $n (i32.const 0))))
        (br $vec)))
      (local.set $accTotal (i32x4.add (local.get $accTotal) (i32x4.extadd_pairwise_i16x8_u (local.get $rowTotal))))
      (local.set $accEdges (i32x4.add (local.get $accEdges) (i32x4.extadd_pairwise_i16x8_u (local.get $rowEdges))))
      ;; The rest of the row byte by byte.
      (block $tailDone (loop $tail
        (br_if $tailDone (i32.ge_s (local.get $x) (local.get $width)))
        (local.set $d (call $absDiff
          (i32.load8_u (i32.add (local.get $row) (local.get $x)))
          (i32.load8_u (i32.sub (i32.add (local.get $row) (local.get $x)) (i32.const 1)))))
        (local.set $total (i32.add (local.get $total) (local.get $d)))
        (if (i32.eqz (i32.rem_u (local.get $x) (local.get $grid)))
          (then (local.set $edges (i32.add (local.get $edges) (local.get $d)))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $tail)))
      (local.set $y (i32.add (local.get $y) (local.get $rowStep)))
      (br $rows)))
    (global.set $second (i32.add (local.get $edges) (call $sum4 (local.get $accEdges))))
    (i32.add (local.get $total) (call $sum4 (local.get $accTotal))))

  ;; Samples x = first, first + step … of every row of a width×height picture at $ptr: how many
  ;; are below $limit; `second` gets the sum of all of them.
  (func (export "dark") (param $ptr i32) (param $width i32) (param $height i32) (param $first i32)
    (param $step i32) (param $limit i32) (result i32)
    (local $y i32) (local $i i32) (local $end i32) (local $v i32) (local $sum i32) (local $dark i32)
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_s (local.get $y) (local.get $height)))
      (local.set $i (i32.add (i32.add (local.get $ptr) (i32.mul (local.get $y) (local.get $width))) (local.get $first)))
      (local.set $end (i32.add (i32.add (local.get $ptr) (i32.mul (local.get $y) (local.get $width))) (local.get $width)))
      (block $done (loop $cols
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (i32.load8_u (local.get $i)))
        (local.set $sum (i32.add (local.get $sum) (local.get $v)))
        (local.set $dark (i32.add (local.get $dark) (i32.lt_s (local.get $v) (local.get $limit))))
        (local.set $i (i32.add (local.get $i) (local.get $step)))
        (br $cols)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rows)))
    (global.set $second (local.get $sum))
    (local.get $dark))

  ;; Copies samples x = first, first + step … < width of rows 0, rowStep … < height of the
  ;; picture at $src to $dst, row after row; returns how many.
  (func (export "sample") (param $src i32) (param $width i32) (param $height i32) (param $first i32)
    (param $step i32) (param $rowStep i32) (param $dst i32) (result i32)
    (local $y i32) (local $i i32) (local $end i32) (local $o i32)
    (local.set $o (local.get $dst))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_s (local.get $y) (local.get $height)))
      (local.set $i (i32.add (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $width))) (local.get $first)))
      (local.set $end (i32.add (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $width))) (local.get $width)))
      (block $done (loop $cols
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (i32.store8 (local.get $o) (i32.load8_u (local.get $i)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (local.get $step)))
        (br $cols)))
      (local.set $y (i32.add (local.get $y) (local.get $rowStep)))
      (br $rows)))
    (i32.sub (local.get $o) (local.get $dst)))

  ;; Σ |a[i] − b[i]| over n bytes.
  (func (export "absDiffSum") (param $a i32) (param $b i32) (param $n i32) (result i32)
    (local $i i32) (local $k i32) (local $sum i32) (local $va v128) (local $vb v128)
    (local $lanes v128) (local $acc v128) (local $vecEnd i32)
    (local.set $vecEnd (i32.and (local.get $n) (i32.const -16)))
    (block $vecDone (loop $vec
      (br_if $vecDone (i32.ge_s (local.get $i) (local.get $vecEnd)))
      (local.set $va (v128.load (i32.add (local.get $a) (local.get $i))))
      (local.set $vb (v128.load (i32.add (local.get $b) (local.get $i))))
      (local.set $lanes (i16x8.add (local.get $lanes) (i16x8.extadd_pairwise_i8x16_u
        (i8x16.sub_sat_u (i8x16.max_u (local.get $va) (local.get $vb)) (i8x16.min_u (local.get $va) (local.get $vb))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (if (i32.eq (local.get $k) (i32.const 64))
        (then
          (local.set $acc (i32x4.add (local.get $acc) (i32x4.extadd_pairwise_i16x8_u (local.get $lanes))))
          (local.set $lanes (v128.const i64x2 0 0))
          (local.set $k (i32.const 0))))
      (br $vec)))
    (local.set $acc (i32x4.add (local.get $acc) (i32x4.extadd_pairwise_i16x8_u (local.get $lanes))))
    (block $done (loop $rest
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $sum (i32.add (local.get $sum) (call $absDiff
        (i32.load8_u (i32.add (local.get $a) (local.get $i)))
        (i32.load8_u (i32.add (local.get $b) (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rest)))
    (i32.add (local.get $sum) (call $sum4 (local.get $acc))))

  ;; video.freeze: two width×height sample grids at $a and $b, compared in block×block blocks:
  ;; returns the largest mean |a − b| of a block; `secondF` gets the largest |mean(a − b)|.
  (func (export "blockChange") (param $a i32) (param $b i32) (param $width i32) (param $height i32)
    (param $block i32) (result f64)
    (local $top i32) (local $bottom i32) (local $left i32) (local $right i32) (local $y i32)
    (local $i i32) (local $end i32) (local $d i32) (local $s i32) (local $m i32) (local $count f64)
    (local $worst f64) (local $shift f64) (local $value f64) (local $dv v128) (local $sv v128) (local $mv v128)
    (block $topsDone (loop $tops
      (br_if $topsDone (i32.ge_s (local.get $top) (local.get $height)))
      (local.set $bottom (select (i32.add (local.get $top) (local.get $block)) (local.get $height)
        (i32.lt_s (i32.add (local.get $top) (local.get $block)) (local.get $height))))
      (local.set $left (i32.const 0))
      (block $leftsDone (loop $lefts
        (br_if $leftsDone (i32.ge_s (local.get $left) (local.get $width)))
        (local.set $right (select (i32.add (local.get $left) (local.get $block)) (local.get $width)
          (i32.lt_s (i32.add (local.get $left) (local.get $block)) (local.get $width))))
        (local.set $s (i32.const 0))
        (local.set $m (i32.const 0))
        (if (i32.eq (i32.sub (local.get $right) (local.get $left)) (i32.const 8))
          (then
            ;; Eight samples of a row at once, as 16-bit differences.
            (local.set $sv (v128.const i64x2 0 0))
            (local.set $mv (v128.const i64x2 0 0))
            (local.set $y (local.get $top))
            (block $rowsDone (loop $rows
              (br_if $rowsDone (i32.ge_s (local.get $y) (local.get $bottom)))
              (local.set $i (i32.add (i32.mul (local.get $y) (local.get $width)) (local.get $left)))
              (local.set $dv (i16x8.sub
                (v128.load8x8_u (i32.add (local.get $a) (local.get $i)))
                (v128.load8x8_u (i32.add (local.get $b) (local.get $i)))))
              (local.set $sv (i16x8.add (local.get $sv) (i16x8.abs (local.get $dv))))
              (local.set $mv (i16x8.add (local.get $mv) (local.get $dv)))
              (local.set $y (i32.add (local.get $y) (i32.const 1)))
              (br $rows)))
            ;; At most 255 per row in a 16-bit lane: blocks up to 128 rows tall (see kernels.ts).
            (local.set $s (call $sum4 (i32x4.extadd_pairwise_i16x8_s (local.get $sv))))
            (local.set $m (call $sum4 (i32x4.extadd_pairwise_i16x8_s (local.get $mv)))))
          (else
            (local.set $y (local.get $top))
            (block $rowsDone2 (loop $rows2
              (br_if $rowsDone2 (i32.ge_s (local.get $y) (local.get $bottom)))
              (local.set $i (i32.add (i32.mul (local.get $y) (local.get $width)) (local.get $left)))
              (local.set $end (i32.add (i32.mul (local.get $y) (local.get $width)) (local.get $right)))
              (block $colsDone (loop $cols
                (br_if $colsDone (i32.ge_s (local.get $i) (local.get $end)))
                (local.set $d (i32.sub (i32.load8_u (i32.add (local.get $a) (local.get $i)))
                                       (i32.load8_u (i32.add (local.get $b) (local.get $i)))))
                (local.set $m (i32.add (local.get $m) (local.get $d)))
                (local.set $s (i32.add (local.get $s)
                  (select (local.get $d) (i32.sub (i32.const 0) (local.get $d)) (i32.ge_s (local.get $d) (i32.const 0)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $cols)))
              (local.set $y (i32.add (local.get $y) (i32.const 1)))
              (br $rows2)))))
        (local.set $count (f64.convert_i32_s (i32.mul (i32.sub (local.get $bottom) (local.get $top))
                                                      (i32.sub (local.get $right) (local.get $left)))))
        (local.set $value (f64.div (f64.convert_i32_s (local.get $s)) (local.get $count)))
        (if (f64.gt (local.get $value) (local.get $worst)) (then (local.set $worst (local.get $value))))
        (local.set $value (f64.div (f64.convert_i32_s
          (select (local.get $m) (i32.sub (i32.const 0) (local.get $m)) (i32.ge_s (local.get $m) (i32.const 0))))
          (local.get $count)))
        (if (f64.gt (local.get $value) (local.get $shift)) (then (local.set $shift (local.get $value))))
        (local.set $left (local.get $right))
        (br $lefts)))
      (local.set $top (local.get $bottom))
      (br $tops)))
    (global.set $secondF (local.get $shift))
    (local.get $worst))

  ;; |x| of a sample, and "v replaces peak only when larger" (a NaN never does).
  (func $peak (param $peak f32) (param $s f32) (result f32)
    (local $v f32)
    (local.set $v (f32.abs (local.get $s)))
    (select (local.get $v) (local.get $peak) (f32.gt (local.get $v) (local.get $peak))))

  ;; audio.silence, audio.clipping: the largest |sample| over all channels of each block of
  ;; blockFrames frames (the last may be short) of interleaved float audio at $ptr, into $dst.
  (func (export "peaks") (param $ptr i32) (param $frames i32) (param $channels i32)
    (param $blockFrames i32) (param $dst i32) (result i32)
    (local $k i32) (local $i i32) (local $end i32) (local $vecEnd i32) (local $from i32)
    (local $peak f32) (local $pv v128) (local $v v128)
    (block $blocksDone (loop $blocks
      (local.set $from (i32.mul (local.get $k) (local.get $blockFrames)))
      (br_if $blocksDone (i32.ge_s (local.get $from) (local.get $frames)))
      (local.set $end (i32.add (local.get $from) (local.get $blockFrames)))
      (if (i32.gt_s (local.get $end) (local.get $frames)) (then (local.set $end (local.get $frames))))
      ;; Byte offsets of the block's samples.
      (local.set $i (i32.add (local.get $ptr) (i32.shl (i32.mul (local.get $from) (local.get $channels)) (i32.const 2))))
      (local.set $end (i32.add (local.get $ptr) (i32.shl (i32.mul (local.get $end) (local.get $channels)) (i32.const 2))))
      (local.set $vecEnd (i32.sub (local.get $end) (i32.const 15)))
      (local.set $pv (v128.const i64x2 0 0))
      (block $vecDone (loop $vec
        (br_if $vecDone (i32.ge_s (local.get $i) (local.get $vecEnd)))
        (local.set $v (f32x4.abs (v128.load (local.get $i))))
        (local.set $pv (v128.bitselect (local.get $v) (local.get $pv) (f32x4.gt (local.get $v) (local.get $pv))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
      (local.set $peak (call $peak (f32.const 0) (f32x4.extract_lane 0 (local.get $pv))))
      (local.set $peak (call $peak (local.get $peak) (f32x4.extract_lane 1 (local.get $pv))))
      (local.set $peak (call $peak (local.get $peak) (f32x4.extract_lane 2 (local.get $pv))))
      (local.set $peak (call $peak (local.get $peak) (f32x4.extract_lane 3 (local.get $pv))))
      (block $done (loop $rest
        (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
        (local.set $peak (call $peak (local.get $peak) (f32.load (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rest)))
      (f32.store (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 2))) (local.get $peak))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $blocks)))
    (local.get $k))

  ;; audio.channel_silence: per block, the largest |sample| of channel 0 and of channel 1, into
  ;; $dst as float pairs. channels ≥ 2.
  (func (export "pairPeaks") (param $ptr i32) (param $frames i32) (param $channels i32)
    (param $blockFrames i32) (param $dst i32) (result i32)
    (local $k i32) (local $i i32) (local $end i32) (local $from i32) (local $stride i32)
    (local $left f32) (local $right f32) (local $pv v128) (local $v v128)
    (local.set $stride (i32.shl (local.get $channels) (i32.const 2)))
    (block $blocksDone (loop $blocks
      (local.set $from (i32.mul (local.get $k) (local.get $blockFrames)))
      (br_if $blocksDone (i32.ge_s (local.get $from) (local.get $frames)))
      (local.set $end (i32.add (local.get $from) (local.get $blockFrames)))
      (if (i32.gt_s (local.get $end) (local.get $frames)) (then (local.set $end (local.get $frames))))
      (local.set $i (i32.add (local.get $ptr) (i32.mul (local.get $from) (local.get $stride))))
      (local.set $end (i32.add (local.get $ptr) (i32.mul (local.get $end) (local.get $stride))))
      (local.set $left (f32.const 0))
      (local.set $right (f32.const 0))
      (if (i32.eq (local.get $channels) (i32.const 2))
        (then
          ;; Stereo: two frames (L R L R) per vector.
          (local.set $pv (v128.const i64x2 0 0))
          (block $vecDone (loop $vec
            (br_if $vecDone (i32.gt_s (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
            (local.set $v (f32x4.abs (v128.load (local.get $i))))
            (local.set $pv (v128.bitselect (local.get $v) (local.get $pv) (f32x4.gt (local.get $v) (local.get $pv))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $vec)))
          (local.set $left (call $peak (local.get $left) (f32x4.extract_lane 0 (local.get $pv))))
          (local.set $left (call $peak (local.get $left) (f32x4.extract_lane 2 (local.get $pv))))
          (local.set $right (call $peak (local.get $right) (f32x4.extract_lane 1 (local.get $pv))))
          (local.set $right (call $peak (local.get $right) (f32x4.extract_lane 3 (local.get $pv))))))
      (block $done (loop $rest
        (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
        (local.set $left (call $peak (local.get $left) (f32.load (local.get $i))))
        (local.set $right (call $peak (local.get $right) (f32.load offset=4 (local.get $i))))
        (local.set $i (i32.add (local.get $i) (local.get $stride)))
        (br $rest)))
      (f32.store (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 3))) (local.get $left))
      (f32.store offset=4 (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 3))) (local.get $right))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $blocks)))
    (local.get $k))

  ;; audio.phase: per block, Σ l², Σ r², Σ l·r of channels 0 and 1 in frame order (doubles), into
  ;; $dst as triples. channels ≥ 2.
  (func (export "pairSums") (param $ptr i32) (param $frames i32) (param $channels i32)
    (param $blockFrames i32) (param $dst i32) (result i32)
    (local $k i32) (local $i i32) (local $end i32) (local $from i32) (local $stride i32) (local $o i32)
    (local $v v128) (local $squares v128) (local $lr f64)
    (local.set $stride (i32.shl (local.get $channels) (i32.const 2)))
    (block $blocksDone (loop $blocks
      (local.set $from (i32.mul (local.get $k) (local.get $blockFrames)))
      (br_if $blocksDone (i32.ge_s (local.get $from) (local.get $frames)))
      (local.set $end (i32.add (local.get $from) (local.get $blockFrames)))
      (if (i32.gt_s (local.get $end) (local.get $frames)) (then (local.set $end (local.get $frames))))
      (local.set $i (i32.add (local.get $ptr) (i32.mul (local.get $from) (local.get $stride))))
      (local.set $end (i32.add (local.get $ptr) (i32.mul (local.get $end) (local.get $stride))))
      (local.set $squares (v128.const i64x2 0 0))
      (local.set $lr (f64.const 0))
      (block $done (loop $each
        (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
        ;; [l, r] as doubles: lane 0 sums l², lane 1 r², each in frame order.
        (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $i))))
        (local.set $squares (f64x2.add (local.get $squares) (f64x2.mul (local.get $v) (local.get $v))))
        (local.set $lr (f64.add (local.get $lr)
          (f64.mul (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v)))))
        (local.set $i (i32.add (local.get $i) (local.get $stride)))
        (br $each)))
      (local.set $o (i32.add (local.get $dst) (i32.mul (local.get $k) (i32.const 24))))
      (v128.store (local.get $o) (local.get $squares))
      (f64.store offset=16 (local.get $o) (local.get $lr))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $blocks)))
    (local.get $k))

  ;; av.desync: for frames [from, from + n) of interleaved float audio at $ptr, each frame's
  ;; power Σ v² / channels (channels in order, doubles) into $dst as floats; returns $sum plus
  ;; those powers, added in frame order.
  (func (export "framePower") (param $ptr i32) (param $from i32) (param $n i32) (param $channels i32)
    (param $dst i32) (param $sum f64) (result f64)
    (local $i i32) (local $end i32) (local $c i32) (local $s f64) (local $v f64) (local $p f64)
    (local $o i32) (local $perChannel f64)
    (local.set $perChannel (f64.convert_i32_s (local.get $channels)))
    (local.set $i (i32.add (local.get $ptr) (i32.shl (i32.mul (local.get $from) (local.get $channels)) (i32.const 2))))
    (local.set $end (i32.add (local.get $ptr)
      (i32.shl (i32.mul (i32.add (local.get $from) (local.get $n)) (local.get $channels)) (i32.const 2))))
    (local.set $o (local.get $dst))
    (block $done (loop $frames
      (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
      (local.set $s (f64.const 0))
      (local.set $c (i32.const 0))
      (block $chDone (loop $ch
        (br_if $chDone (i32.ge_s (local.get $c) (local.get $channels)))
        (local.set $v (f64.promote_f32 (f32.load (local.get $i))))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $v) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $ch)))
      (local.set $p (f64.div (local.get $s) (local.get $perChannel)))
      (f32.store (local.get $o) (f32.demote_f64 (local.get $p)))
      (local.set $sum (f64.add (local.get $sum) (local.get $p)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $frames)))
    (local.get $sum))

  ;; audio.loudness: frames [from, to) of channel $ch (and $ch + 1 when $pair) of interleaved float
  ;; audio at $ptr through the two K-weighting biquads. $coef: b0 b1 b2 a1 a2 of the shelf, a1 a2
  ;; of the high-pass (whose b are 1, −2, 1), doubles. $state: x1 x2 y1 y2 z1 z2 of each channel
  ;; (doubles, channel after channel), carried from call to call; the sums of squared output go
  ;; to $sums (a double per channel). One SIMD lane per channel: each lane does the arithmetic of
  ;; the JavaScript filter, in its order.
  (func (export "kWeight") (param $ptr i32) (param $from i32) (param $to i32) (param $channels i32)
    (param $ch i32) (param $pair i32) (param $coef i32) (param $state i32) (param $sums i32)
    (local $i i32) (local $end i32) (local $stride i32) (local $st i32)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $a1 v128) (local $a2 v128)
    (local $c1 v128) (local $c2 v128) (local $two v128)
    (local $x v128) (local $x1 v128) (local $x2 v128) (local $y v128) (local $y1 v128) (local $y2 v128)
    (local $z v128) (local $z1 v128) (local $z2 v128) (local $sum v128)
    (local.set $b0 (v128.load64_splat (local.get $coef)))
    (local.set $b1 (v128.load64_splat offset=8 (local.get $coef)))
    (local.set $b2 (v128.load64_splat offset=16 (local.get $coef)))
    (local.set $a1 (v128.load64_splat offset=24 (local.get $coef)))
    (local.set $a2 (v128.load64_splat offset=32 (local.get $coef)))
    (local.set $c1 (v128.load64_splat offset=40 (local.get $coef)))
    (local.set $c2 (v128.load64_splat offset=48 (local.get $coef)))
    (local.set $two (f64x2.splat (f64.const 2)))
    ;; Lane 0: channel ch; lane 1: channel ch + 1 (or a copy of lane 0's input, not stored).
    (local.set $st (i32.add (local.get $state) (i32.mul (local.get $ch) (i32.const 48))))
    (local.set $x1 (f64x2.replace_lane 1 (f64x2.splat (f64.load (local.get $st))) (f64.load offset=48 (local.get $st))))
    (local.set $x2 (f64x2.replace_lane 1 (f64x2.splat (f64.load offset=8 (local.get $st))) (f64.load offset=56 (local.get $st))))
    (local.set $y1 (f64x2.replace_lane 1 (f64x2.splat (f64.load offset=16 (local.get $st))) (f64.load offset=64 (local.get $st))))
    (local.set $y2 (f64x2.replace_lane 1 (f64x2.splat (f64.load offset=24 (local.get $st))) (f64.load offset=72 (local.get $st))))
    (local.set $z1 (f64x2.replace_lane 1 (f64x2.splat (f64.load offset=32 (local.get $st))) (f64.load offset=80 (local.get $st))))
    (local.set $z2 (f64x2.replace_lane 1 (f64x2.splat (f64.load offset=40 (local.get $st))) (f64.load offset=88 (local.get $st))))
    (local.set $stride (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $i (i32.add (local.get $ptr)
      (i32.shl (i32.add (i32.mul (local.get $from) (local.get $channels)) (local.get $ch)) (i32.const 2))))
    (local.set $end (i32.add (local.get $ptr)
      (i32.shl (i32.add (i32.mul (local.get $to) (local.get $channels)) (local.get $ch)) (i32.const 2))))
    (block $done (loop $frames
      (br_if $done (i32.ge_s (local.get $i) (local.get $end)))
      (local.set $x
        (if (result v128) (local.get $pair)
          (then (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $i))))
          (else (f64x2.splat (f64.promote_f32 (f32.load (local.get $i)))))))
      ;; y = b0·x + b1·x1 + b2·x2 − a1·y1 − a2·y2
      (local.set $y (f64x2.sub (f64x2.sub (f64x2.add (f64x2.add
        (f64x2.mul (local.get $b0) (local.get $x)) (f64x2.mul (local.get $b1) (local.get $x1)))
        (f64x2.mul (local.get $b2) (local.get $x2)))
        (f64x2.mul (local.get $a1) (local.get $y1)))
        (f64x2.mul (local.get $a2) (local.get $y2))))
      (local.set $x2 (local.get $x1))
      (local.set $x1 (local.get $x))
      ;; z = y − 2·y1 + y2 − c1·z1 − c2·z2
      (local.set $z (f64x2.sub (f64x2.sub (f64x2.add
        (f64x2.sub (local.get $y) (f64x2.mul (local.get $two) (local.get $y1)))
        (local.get $y2))
        (f64x2.mul (local.get $c1) (local.get $z1)))
        (f64x2.mul (local.get $c2) (local.get $z2))))
      (local.set $y2 (local.get $y1))
      (local.set $y1 (local.get $y))
      (local.set $z2 (local.get $z1))
      (local.set $z1 (local.get $z))
      (local.set $sum (f64x2.add (local.get $sum) (f64x2.mul (local.get $z) (local.get $z))))
      (local.set $i (i32.add (local.get $i) (local.get $stride)))
      (br $frames)))
    (f64.store (local.get $st) (f64x2.extract_lane 0 (local.get $x1)))
    (f64.store offset=8 (local.get $st) (f64x2.extract_lane 0 (local.get $x2)))
    (f64.store offset=16 (local.get $st) (f64x2.extract_lane 0 (local.get $y1)))
    (f64.store offset=24 (local.get $st) (f64x2.extract_lane 0 (local.get $y2)))
    (f64.store offset=32 (local.get $st) (f64x2.extract_lane 0 (local.get $z1)))
    (f64.store offset=40 (local.get $st) (f64x2.extract_lane 0 (local.get $z2)))
    (f64.store (i32.add (local.get $sums) (i32.shl (local.get $ch) (i32.const 3))) (f64x2.extract_lane 0 (local.get $sum)))
    (if (local.get $pair)
      (then
        (f64.store offset=48 (local.get $st) (f64x2.extract_lane 1 (local.get $x1)))
        (f64.store offset=56 (local.get $st) (f64x2.extract_lane 1 (local.get $x2)))
        (f64.store offset=64 (local.get $st) (f64x2.extract_lane 1 (local.get $y1)))
        (f64.store offset=72 (local.get $st) (f64x2.extract_lane 1 (local.get $y2)))
        (f64.store offset=80 (local.get $st) (f64x2.extract_lane 1 (local.get $z1)))
        (f64.store offset=88 (local.get $st) (f64x2.extract_lane 1 (local.get $z2)))
        (f64.store offset=8 (i32.add (local.get $sums) (i32.shl (local.get $ch) (i32.const 3)))
          (f64x2.extract_lane 1 (local.get $sum))))))
)
