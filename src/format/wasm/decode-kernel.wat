;; The snapshot decoder's per-byte work (decoder.ts, byte-queue.ts), on bytes in this memory: the
;; ENTRY scanner and the format's two xxhash64 streams (seed 0), the chunk's (slot 0) and the
;; current table's (slot 1). The reader reads files straight into this memory, so a piece is
;; scanned and hashed where it lies, with no copy.
;;
;; The scanner only accepts: it walks consecutive ENTRY records and accepts each one that passes
;; every check the decoder makes on an ENTRY (spec/FORMAT.md 7.1): tag, key and value length
;; limits, room in the chunk, key strictly greater than the previous one. It stops BEFORE the
;; first record it does not accept (another tag, a failed check, a record running past $end) and
;; never decides an error: the JavaScript decoder reads that record and reports it.
;;
;; Memory: [0, 16) results of the last scan (u32: records accepted, key+value bytes, position and
;; length of the last accepted key); [512, 544) results of `chunks`; hash state of slot s at 128 + 128 * s: v1..v4 (i64) at +0,
;; total length (i64) at +32, buffered byte count (i32) at +40, buffered bytes (< 32) at +48..+80.
;; Everything from byte 1024 on is the caller's (previous key, read buffers: decode-kernel.ts).
;; Regenerate decode-kernel-wasm.ts with build-wasm.sh.
(module
  (memory (export "memory") 1)
  (global $P1 i64 (i64.const 0x9E3779B185EBCA87))
  (global $P2 i64 (i64.const 0xC2B2AE3D27D4EB4F))
  (global $P3 i64 (i64.const 0x165667B19E3779F9))
  (global $P4 i64 (i64.const 0x85EBCA77C2B2AE63))
  (global $P5 i64 (i64.const 0x27D4EB2F165667C5))

  (func $state (param $slot i32) (result i32)
    (i32.add (i32.const 128) (i32.shl (local.get $slot) (i32.const 7))))

  (func $round (param $acc i64) (param $x i64) (result i64)
    (i64.mul (i64.rotl (i64.add (local.get $acc) (i64.mul (local.get $x) (global.get $P2))) (i64.const 31)) (global.get $P1)))

  (func $mergeRound (param $h i64) (param $v i64) (result i64)
    (i64.add (i64.mul (i64.xor (local.get $h) (call $round (i64.const 0) (local.get $v))) (global.get $P1)) (global.get $P4)))

  ;; Resets a slot to a fresh state.
  (func $reset (export "reset") (param $slot i32)
    (local $s i32)
    (local.set $s (call $state (local.get $slot)))
    (i64.store offset=0 (local.get $s) (i64.add (global.get $P1) (global.get $P2)))
    (i64.store offset=8 (local.get $s) (global.get $P2))
    (i64.store offset=16 (local.get $s) (i64.const 0))
    (i64.store offset=24 (local.get $s) (i64.sub (i64.const 0) (global.get $P1)))
    (i64.store offset=32 (local.get $s) (i64.const 0))
    (i32.store offset=40 (local.get $s) (i32.const 0)))

  ;; Consumes 32-byte stripes from $p while $p + 32 <= $end; returns the position after the last.
  ;; The rounds are written out: a call per round made hashing several times slower.
  (func $stripes (param $s i32) (param $p i32) (param $end i32) (result i32)
    (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64)
    (local.set $v1 (i64.load offset=0 (local.get $s)))
    (local.set $v2 (i64.load offset=8 (local.get $s)))
    (local.set $v3 (i64.load offset=16 (local.get $s)))
    (local.set $v4 (i64.load offset=24 (local.get $s)))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $end)))
        (local.set $v1 (i64.mul (i64.rotl (i64.add (local.get $v1) (i64.mul (i64.load offset=0 (local.get $p)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $v2 (i64.mul (i64.rotl (i64.add (local.get $v2) (i64.mul (i64.load offset=8 (local.get $p)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $v3 (i64.mul (i64.rotl (i64.add (local.get $v3) (i64.mul (i64.load offset=16 (local.get $p)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $v4 (i64.mul (i64.rotl (i64.add (local.get $v4) (i64.mul (i64.load offset=24 (local.get $p)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $next)))
    (i64.store offset=0 (local.get $s) (local.get $v1))
    (i64.store offset=8 (local.get $s) (local.get $v2))
    (i64.store offset=16 (local.get $s) (local.get $v3))
    (i64.store offset=24 (local.get $s) (local.get $v4))
    (local.get $p))

  ;; Slots 0 and 1 together, from $a and $b, while both have a whole stripe before $end: one pass
  ;; over bytes both streams cover. Leaves the positions reached in $a2 and $b2.
  ;; Both streams are bound by 64-bit multiplies (16 per 32 bytes). Slot 0 runs on the integer
  ;; multiplier; slot 1 runs as two i64x2 vectors (lanes 1-2 and 3-4, the state's own layout), whose
  ;; multiplies the engine makes from vector units (pmuludq), so the two streams overlap instead of
  ;; queuing for one multiplier. All eight lanes as scalars also ran out of registers.
  (global $a2 (mut i32) (i32.const 0))
  (global $b2 (mut i32) (i32.const 0))
  (func $stripes2 (param $a i32) (param $b i32) (param $end i32)
    (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64)
    (local $w12 v128) (local $w3 i64) (local $w4 i64) (local $p1 v128) (local $p2 v128) (local $x v128)
    (local.set $v1 (i64.load offset=128 (i32.const 0)))
    (local.set $v2 (i64.load offset=136 (i32.const 0)))
    (local.set $v3 (i64.load offset=144 (i32.const 0)))
    (local.set $v4 (i64.load offset=152 (i32.const 0)))
    (local.set $w12 (v128.load offset=256 (i32.const 0)))
    (local.set $w3 (i64.load offset=272 (i32.const 0)))
    (local.set $w4 (i64.load offset=280 (i32.const 0)))
    (local.set $p1 (i64x2.splat (global.get $P1)))
    (local.set $p2 (i64x2.splat (global.get $P2)))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $a) (i32.const 32)) (local.get $end)))
        (br_if $done (i32.gt_u (i32.add (local.get $b) (i32.const 32)) (local.get $end)))
        (local.set $x (i64x2.add (local.get $w12) (i64x2.mul (v128.load offset=0 (local.get $b)) (local.get $p2))))
        (local.set $w12 (i64x2.mul (v128.or (i64x2.shl (local.get $x) (i32.const 31)) (i64x2.shr_u (local.get $x) (i32.const 33))) (local.get $p1)))
        (local.set $v1 (i64.mul (i64.rotl (i64.add (local.get $v1) (i64.mul (i64.load offset=0 (local.get $a)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $v2 (i64.mul (i64.rotl (i64.add (local.get $v2) (i64.mul (i64.load offset=8 (local.get $a)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $w3 (i64.mul (i64.rotl (i64.add (local.get $w3) (i64.mul (i64.load offset=16 (local.get $b)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $w4 (i64.mul (i64.rotl (i64.add (local.get $w4) (i64.mul (i64.load offset=24 (local.get $b)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $v3 (i64.mul (i64.rotl (i64.add (local.get $v3) (i64.mul (i64.load offset=16 (local.get $a)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $v4 (i64.mul (i64.rotl (i64.add (local.get $v4) (i64.mul (i64.load offset=24 (local.get $a)) (global.get $P2))) (i64.const 31)) (global.get $P1)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br $next)))
    (i64.store offset=128 (i32.const 0) (local.get $v1))
    (i64.store offset=136 (i32.const 0) (local.get $v2))
    (i64.store offset=144 (i32.const 0) (local.get $v3))
    (i64.store offset=152 (i32.const 0) (local.get $v4))
    (v128.store offset=256 (i32.const 0) (local.get $w12))
    (i64.store offset=272 (i32.const 0) (local.get $w3))
    (i64.store offset=280 (i32.const 0) (local.get $w4))
    (global.set $a2 (local.get $a))
    (global.set $b2 (local.get $b)))

  ;; Counts [$p, $end) into the slot's length and tops up its buffered stripe (hashing it once
  ;; full). Returns where whole stripes start, or $end when every byte went to the buffer.
  (func $begin (param $s i32) (param $p i32) (param $end i32) (result i32)
    (local $have i32) (local $take i32)
    (i64.store offset=32 (local.get $s)
      (i64.add (i64.load offset=32 (local.get $s)) (i64.extend_i32_u (i32.sub (local.get $end) (local.get $p)))))
    (local.set $have (i32.load offset=40 (local.get $s)))
    (if (i32.eqz (local.get $have)) (then (return (local.get $p))))
    (local.set $take (i32.sub (i32.const 32) (local.get $have)))
    (if (i32.gt_u (local.get $take) (i32.sub (local.get $end) (local.get $p)))
      (then (local.set $take (i32.sub (local.get $end) (local.get $p)))))
    (memory.copy (i32.add (i32.add (local.get $s) (i32.const 48)) (local.get $have)) (local.get $p) (local.get $take))
    (local.set $have (i32.add (local.get $have) (local.get $take)))
    (if (i32.lt_u (local.get $have) (i32.const 32))
      (then
        (i32.store offset=40 (local.get $s) (local.get $have))
        (return (local.get $end))))
    (drop (call $stripes (local.get $s) (i32.add (local.get $s) (i32.const 48)) (i32.add (local.get $s) (i32.const 80))))
    (i32.store offset=40 (local.get $s) (i32.const 0))
    (i32.add (local.get $p) (local.get $take)))

  ;; Hashes the slot's whole stripes from $p and buffers the rest before $end. Nothing when $p is
  ;; $end: then $begin has left the buffered count as it must be.
  (func $finish (param $s i32) (param $p i32) (param $end i32)
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return)))
    (local.set $p (call $stripes (local.get $s) (local.get $p) (local.get $end)))
    (memory.copy (i32.add (local.get $s) (i32.const 48)) (local.get $p) (i32.sub (local.get $end) (local.get $p)))
    (i32.store offset=40 (local.get $s) (i32.sub (local.get $end) (local.get $p))))

  ;; Feeds memory [$p, $end) to the slot's state.
  (func $update (export "update") (param $slot i32) (param $p i32) (param $end i32)
    (local $s i32)
    (local.set $s (call $state (local.get $slot)))
    (call $finish (local.get $s) (call $begin (local.get $s) (local.get $p) (local.get $end)) (local.get $end)))

  ;; Feeds [$a, $end) to slot 0 and [$b, $end) to slot 1, in one pass where they overlap.
  (func $update2 (export "update2") (param $a i32) (param $b i32) (param $end i32)
    (local.set $a (call $begin (i32.const 128) (local.get $a) (local.get $end)))
    (local.set $b (call $begin (i32.const 256) (local.get $b) (local.get $end)))
    (call $stripes2 (local.get $a) (local.get $b) (local.get $end))
    (call $finish (i32.const 128) (global.get $a2) (local.get $end))
    (call $finish (i32.const 256) (global.get $b2) (local.get $end)))

  ;; The slot's digest (its state is left as it is).
  (func $digest (export "digest") (param $slot i32) (result i64)
    (local $s i32) (local $h i64) (local $p i32) (local $end i32) (local $total i64)
    (local.set $s (call $state (local.get $slot)))
    (local.set $total (i64.load offset=32 (local.get $s)))
    (if (i64.ge_u (local.get $total) (i64.const 32))
      (then
        (local.set $h (i64.add (i64.add (i64.rotl (i64.load offset=0 (local.get $s)) (i64.const 1))
                                        (i64.rotl (i64.load offset=8 (local.get $s)) (i64.const 7)))
                               (i64.add (i64.rotl (i64.load offset=16 (local.get $s)) (i64.const 12))
                                        (i64.rotl (i64.load offset=24 (local.get $s)) (i64.const 18)))))
        (local.set $h (call $mergeRound (local.get $h) (i64.load offset=0 (local.get $s))))
        (local.set $h (call $mergeRound (local.get $h) (i64.load offset=8 (local.get $s))))
        (local.set $h (call $mergeRound (local.get $h) (i64.load offset=16 (local.get $s))))
        (local.set $h (call $mergeRound (local.get $h) (i64.load offset=24 (local.get $s)))))
      (else
        (local.set $h (i64.add (i64.load offset=16 (local.get $s)) (global.get $P5)))))
    (local.set $h (i64.add (local.get $h) (local.get $total)))
    (local.set $p (i32.add (local.get $s) (i32.const 48)))
    (local.set $end (i32.add (local.get $p) (i32.load offset=40 (local.get $s))))
    (block $d8
      (loop $l8
        (br_if $d8 (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
        (local.set $h (i64.xor (local.get $h) (call $round (i64.const 0) (i64.load (local.get $p)))))
        (local.set $h (i64.add (i64.mul (i64.rotl (local.get $h) (i64.const 27)) (global.get $P1)) (global.get $P4)))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $l8)))
    (if (i32.le_u (i32.add (local.get $p) (i32.const 4)) (local.get $end))
      (then
        (local.set $h (i64.xor (local.get $h) (i64.mul (i64.load32_u (local.get $p)) (global.get $P1))))
        (local.set $h (i64.add (i64.mul (i64.rotl (local.get $h) (i64.const 23)) (global.get $P2)) (global.get $P3)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))))
    (block $d1
      (loop $l1
        (br_if $d1 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $h (i64.xor (local.get $h) (i64.mul (i64.load8_u (local.get $p)) (global.get $P5))))
        (local.set $h (i64.mul (i64.rotl (local.get $h) (i64.const 11)) (global.get $P1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l1)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 33))) (global.get $P2)))
    (local.set $h (i64.mul (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 29))) (global.get $P3)))
    (i64.xor (local.get $h) (i64.shr_u (local.get $h) (i64.const 32))))

  ;; 1 when [$b, $b+$bl) sorts strictly after [$a, $a+$al) (bytewise; a proper prefix first).
  ;; Eight bytes at a time: the lowest set bit of their XOR (little-endian loads) is in the first
  ;; byte that differs.
  (func $after (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
    (local $n i32) (local $i i32) (local $x i64) (local $y i32) (local $z i32)
    (local.set $n (select (local.get $al) (local.get $bl) (i32.lt_u (local.get $al) (local.get $bl))))
    (block $tail
      (loop $wide
        (br_if $tail (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
        (local.set $x (i64.xor (i64.load (i32.add (local.get $a) (local.get $i)))
                               (i64.load (i32.add (local.get $b) (local.get $i)))))
        (if (i64.ne (local.get $x) (i64.const 0))
          (then
            (local.set $i (i32.add (local.get $i) (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $x)) (i64.const 3)))))
            (return (i32.gt_u (i32.load8_u (i32.add (local.get $b) (local.get $i)))
                              (i32.load8_u (i32.add (local.get $a) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $wide)))
    (block $done
      (loop $byte
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $y (i32.load8_u (i32.add (local.get $a) (local.get $i))))
        (local.set $z (i32.load8_u (i32.add (local.get $b) (local.get $i))))
        (if (i32.ne (local.get $y) (local.get $z))
          (then (return (i32.gt_u (local.get $z) (local.get $y)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte)))
    (i32.gt_u (local.get $bl) (local.get $al)))

;; Accepts ENTRY records from $p on, none reaching past $end. $prevLen < 0: no previous key in
  ;; this table. $room: bytes the chunk still admits (max - used - 9; +inf when unchunked), kept
  ;; as an i64 (above 2^62: no limit, no chunk is that large). Returns the position after the
  ;; last accepted record; results at [0, 16).
  (func $scan (export "scan") (param $p i32) (param $end i32) (param $prev i32) (param $prevLen i32)
      (param $maxKey i32) (param $maxValue i32) (param $roomF f64) (result i32)
    (local $count i32) (local $bytes i32) (local $kl i32) (local $vl i32) (local $size i64)
    (local $room i64) (local $k i32) (local $x i64) (local $i i32)
    (local.set $room (select (i64.const 0x4000000000000000) (i64.trunc_sat_f64_u (local.get $roomF))
                             (f64.ge (local.get $roomF) (f64.const 0x1p62))))
    (block $stop
      (loop $record
        (br_if $stop (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 9)))
        (br_if $stop (i32.ne (i32.load8_u (local.get $p)) (i32.const 1)))
        (local.set $kl (i32.load offset=1 (local.get $p)))
        (local.set $vl (i32.load offset=5 (local.get $p)))
        (br_if $stop (i32.gt_u (local.get $kl) (local.get $maxKey)))
        (br_if $stop (i32.gt_u (local.get $vl) (local.get $maxValue)))
        ;; 9 + K + V as a u64: no overflow, whatever the lengths.
        (local.set $size (i64.add (i64.const 9)
          (i64.add (i64.extend_i32_u (local.get $kl)) (i64.extend_i32_u (local.get $vl)))))
        (br_if $stop (i64.gt_u (local.get $size) (i64.extend_i32_u (i32.sub (local.get $end) (local.get $p)))))
        (br_if $stop (i64.gt_u (local.get $size) (local.get $room)))
        (local.set $k (i32.add (local.get $p) (i32.const 9)))
        (if (i32.ge_s (local.get $prevLen) (i32.const 0))
          (then
            ;; Most keys differ from the previous one in their first eight bytes: decided here
            ;; (the lowest set bit of the XOR is in the first differing byte), else by $after.
            (local.set $x (i64.const 0))
            (if (i32.and (i32.ge_u (local.get $prevLen) (i32.const 8)) (i32.ge_u (local.get $kl) (i32.const 8)))
              (then (local.set $x (i64.xor (i64.load (local.get $prev)) (i64.load (local.get $k))))))
            (if (i64.ne (local.get $x) (i64.const 0))
              (then
                (local.set $i (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $x)) (i64.const 3))))
                (br_if $stop (i32.lt_u (i32.load8_u (i32.add (local.get $k) (local.get $i)))
                                       (i32.load8_u (i32.add (local.get $prev) (local.get $i))))))
              (else
                (br_if $stop (i32.eqz (call $after (local.get $prev) (local.get $prevLen) (local.get $k) (local.get $kl))))))))
        (local.set $room (i64.sub (local.get $room) (local.get $size)))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (local.set $bytes (i32.add (local.get $bytes) (i32.add (local.get $kl) (local.get $vl))))
        (local.set $prev (local.get $k))
        (local.set $prevLen (local.get $kl))
        (local.set $p (i32.add (local.get $p) (i32.wrap_i64 (local.get $size))))
        (br $record)))
    (i32.store (i32.const 0) (local.get $count))
    (i32.store (i32.const 4) (local.get $bytes))
    (i32.store (i32.const 8) (local.get $prev))
    (i32.store (i32.const 12) (local.get $prevLen))
    (local.get $p))

  ;; True (1) when the $n bytes at $a equal those at $b.
  (func $same (param $a i32) (param $b i32) (param $n i32) (result i32)
    (local $i i32)
    (block $bytes
      (loop $wide
        (br_if $bytes (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
        (if (i64.ne (i64.load (i32.add (local.get $a) (local.get $i))) (i64.load (i32.add (local.get $b) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $wide)))
    (block $done
      (loop $byte
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i))) (i32.load8_u (i32.add (local.get $b) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte)))
    (i32.const 1))

  ;; Accepts whole chunks from $p on (a chunk header), none reaching past $end: each one's header
  ;; is the template at $tmpl ($tmplLen bytes: the first chunk's header) with the fields the chain
  ;; expects written at $tmpl + $fieldsAt + 8 (index u32, previous digest u64, table position
  ;; u32); its first record is an ENTRY that did not fit the previous chunk (the cut rule: $max -
  ;; $prevUsed < size + 9, or $prevUsed 0); its records are ENTRY records `scan` accepts with the
  ;; room of a chunk of at most $max bytes; then CHUNK_END and a trailer equal to the chunk's
  ;; xxhash64. Like `scan` it only accepts, stopping BEFORE the first chunk it does not accept
  ;; (any other record in it, a failed check, a chunk running past $end, $maxOut chunks): the
  ;; JavaScript decoder reads that chunk and reports any error. The chunk hash (slot 0) is left
  ;; reset; the table hash (slot 1) has the accepted chunks' ENTRY bytes (and, after a trailer
  ;; that did not match, that chunk's, which the error makes moot). Writes each
  ;; accepted chunk's size (f64) at $out + 8i and trailer (i64) at $out + 8 * $maxOut + 8i.
  ;; Returns the position after the last accepted chunk; results at [512, 544): u32 chunks,
  ;; entries, key+value bytes, position and length of the last key, bytes the last chunk used
  ;; (header and records), and its trailer (i64).
  (func (export "chunks") (param $p i32) (param $end i32) (param $tmpl i32) (param $tmplLen i32)
      (param $fieldsAt i32) (param $index i32) (param $prevDigest i64) (param $tablePos i32)
      (param $prev i32) (param $prevLen i32) (param $maxKey i32) (param $maxValue i32)
      (param $max i32) (param $prevUsed i32) (param $out i32) (param $maxOut i32) (result i32)
    (local $n i32) (local $entries i32) (local $bytes i32) (local $q i32) (local $r i32)
    (local $f i32) (local $size i64) (local $digest i64)
    (local.set $f (i32.add (local.get $tmpl) (local.get $fieldsAt)))
    (block $stop
      (loop $chunk
        (br_if $stop (i32.ge_u (local.get $n) (local.get $maxOut)))
        (br_if $stop (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (local.get $tmplLen)))
        (i32.store offset=8 (local.get $f) (local.get $index))
        (i64.store offset=12 (local.get $f) (local.get $prevDigest))
        (i32.store offset=20 (local.get $f) (local.get $tablePos))
        (br_if $stop (i32.eqz (call $same (local.get $p) (local.get $tmpl) (local.get $tmplLen))))
        (local.set $q (i32.add (local.get $p) (local.get $tmplLen)))
        (br_if $stop (i32.lt_u (i32.sub (local.get $end) (local.get $q)) (i32.const 9)))
        (br_if $stop (i32.ne (i32.load8_u (local.get $q)) (i32.const 1)))
        (local.set $size (i64.add (i64.const 9)
          (i64.add (i64.extend_i32_u (i32.load offset=1 (local.get $q))) (i64.extend_i32_u (i32.load offset=5 (local.get $q))))))
        (br_if $stop (i32.and (i32.ne (local.get $prevUsed) (i32.const 0))
          (i64.le_u (i64.add (i64.extend_i32_u (local.get $prevUsed)) (i64.add (local.get $size) (i64.const 9)))
                    (i64.extend_i32_u (local.get $max)))))
        (local.set $r (call $scan (local.get $q) (local.get $end) (local.get $prev) (local.get $prevLen)
          (local.get $maxKey) (local.get $maxValue)
          (f64.convert_i32_s (i32.sub (i32.sub (local.get $max) (local.get $tmplLen)) (i32.const 9)))))
        (br_if $stop (i32.eqz (i32.load (i32.const 0))))
        (br_if $stop (i32.lt_u (i32.sub (local.get $end) (local.get $r)) (i32.const 9)))
        (br_if $stop (i32.ne (i32.load8_u (local.get $r)) (i32.const 3)))
        ;; The chunk's hash from its header, the table's over its entries, in one pass. A trailer
        ;; that does not match leaves this chunk's entries in the table's state: the JavaScript
        ;; path then reads the chunk again, which fails at the same trailer, the state unused.
        (call $reset (i32.const 0))
        (call $update2 (local.get $p) (local.get $q) (local.get $r))
        (call $update (i32.const 0) (local.get $r) (i32.add (local.get $r) (i32.const 1)))
        (local.set $digest (call $digest (i32.const 0)))
        (br_if $stop (i64.ne (local.get $digest) (i64.load offset=1 (local.get $r))))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 3)))
          (f64.convert_i32_u (i32.sub (i32.add (local.get $r) (i32.const 9)) (local.get $p))))
        (i64.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $maxOut) (local.get $n)) (i32.const 3)))
          (local.get $digest))
        (local.set $entries (i32.add (local.get $entries) (i32.load (i32.const 0))))
        (local.set $bytes (i32.add (local.get $bytes) (i32.load (i32.const 4))))
        (local.set $prev (i32.load (i32.const 8)))
        (local.set $prevLen (i32.load (i32.const 12)))
        (local.set $prevUsed (i32.sub (local.get $r) (local.get $p)))
        (local.set $prevDigest (local.get $digest))
        (local.set $index (i32.add (local.get $index) (i32.const 1)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $p (i32.add (local.get $r) (i32.const 9)))
        (br $chunk)))
    (call $reset (i32.const 0))
    (i32.store (i32.const 512) (local.get $n))
    (i32.store (i32.const 516) (local.get $entries))
    (i32.store (i32.const 520) (local.get $bytes))
    (i32.store (i32.const 524) (local.get $prev))
    (i32.store (i32.const 528) (local.get $prevLen))
    (i32.store (i32.const 532) (local.get $prevUsed))
    (i64.store (i32.const 536) (local.get $prevDigest))
    (local.get $p))
)
