;; The encoder's hashing (encoder-hash.ts): two streaming xxhash64 states (seed 0), slot 0 for the
;; chunk and slot 1 for the table, and a scanner that accepts a run of packed ENTRY records
;; (format/packed.ts) with the encoder's checks. Regenerate encoder-hash-wasm.ts with build-wasm.sh.
;;
;; Memory: a state at 128 * slot: v1..v4 (i64) at +0..+24, total length (i64) at +32, buffered
;; byte count (i32) at +40, buffered bytes (< 32) at +48..+80. Everything from byte 256 on is the
;; caller's (input copied in by encoder-hash.ts).
(module
  (memory (export "memory") 1)
  (global $P1 i64 (i64.const 0x9E3779B185EBCA87))
  (global $P2 i64 (i64.const 0xC2B2AE3D27D4EB4F))
  (global $P3 i64 (i64.const 0x165667B19E3779F9))
  (global $P4 i64 (i64.const 0x85EBCA77C2B2AE63))
  (global $P5 i64 (i64.const 0x27D4EB2F165667C5))
  ;; Results of scan: records accepted, their key and value bytes, the last accepted key.
  (global $entries (export "entries") (mut i32) (i32.const 0))
  (global $bytes (export "bytes") (mut i64) (i64.const 0))
  (global $lastKey (export "lastKey") (mut i32) (i32.const 0))
  (global $lastKeyLen (export "lastKeyLen") (mut i32) (i32.const 0))

  (func $round (param $acc i64) (param $x i64) (result i64)
    (i64.mul (i64.rotl (i64.add (local.get $acc) (i64.mul (local.get $x) (global.get $P2))) (i64.const 31)) (global.get $P1)))

  (func $mergeRound (param $h i64) (param $v i64) (result i64)
    (i64.add (i64.mul (i64.xor (local.get $h) (call $round (i64.const 0) (local.get $v))) (global.get $P1)) (global.get $P4)))

  ;; Resets a slot to a fresh state.
  (func (export "reset") (param $slot i32)
    (local $s i32)
    (local.set $s (i32.shl (local.get $slot) (i32.const 7)))
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

  ;; Feeds memory [$p, $end) to the slot's state.
  (func $update (export "update") (param $slot i32) (param $p i32) (param $end i32)
    (local $s i32) (local $have i32) (local $take i32)
    (local.set $s (i32.shl (local.get $slot) (i32.const 7)))
    (i64.store offset=32 (local.get $s)
      (i64.add (i64.load offset=32 (local.get $s)) (i64.extend_i32_u (i32.sub (local.get $end) (local.get $p)))))
    (local.set $have (i32.load offset=40 (local.get $s)))
    (if (i32.gt_u (local.get $have) (i32.const 0))
      (then
        ;; Top up the buffered stripe first.
        (local.set $take (i32.sub (i32.const 32) (local.get $have)))
        (if (i32.gt_u (local.get $take) (i32.sub (local.get $end) (local.get $p)))
          (then (local.set $take (i32.sub (local.get $end) (local.get $p)))))
        (memory.copy (i32.add (i32.add (local.get $s) (i32.const 48)) (local.get $have)) (local.get $p) (local.get $take))
        (local.set $have (i32.add (local.get $have) (local.get $take)))
        (local.set $p (i32.add (local.get $p) (local.get $take)))
        (if (i32.lt_u (local.get $have) (i32.const 32))
          (then
            (i32.store offset=40 (local.get $s) (local.get $have))
            (return)))
        (drop (call $stripes (local.get $s) (i32.add (local.get $s) (i32.const 48)) (i32.add (local.get $s) (i32.const 80))))))
    (local.set $p (call $stripes (local.get $s) (local.get $p) (local.get $end)))
    (local.set $have (i32.sub (local.get $end) (local.get $p)))
    (memory.copy (i32.add (local.get $s) (i32.const 48)) (local.get $p) (local.get $have))
    (i32.store offset=40 (local.get $s) (local.get $have)))

  ;; The slot's digest (its state is left as it is).
  (func (export "digest") (param $slot i32) (result i64)
    (local $s i32) (local $h i64) (local $p i32) (local $end i32) (local $total i64)
    (local.set $s (i32.shl (local.get $slot) (i32.const 7)))
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

;; Bytewise comparison of [$a, $a + $al) and [$b, $b + $bl): negative, zero or positive.
  ;; Eight bytes at a time: the lowest set bit of their XOR (little-endian loads) is the first
  ;; byte that differs.
  (func $compare (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
    (local $n i32) (local $i i32) (local $x i64) (local $y i32) (local $z i32)
    (local.set $n (select (local.get $al) (local.get $bl) (i32.lt_u (local.get $al) (local.get $bl))))
    (block $tail
      (loop $wide
        (br_if $tail (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
        (local.set $x (i64.xor (i64.load align=1 (i32.add (local.get $a) (local.get $i)))
                               (i64.load align=1 (i32.add (local.get $b) (local.get $i)))))
        (if (i64.ne (local.get $x) (i64.const 0))
          (then
            (local.set $i (i32.add (local.get $i) (i32.wrap_i64 (i64.shr_u (i64.ctz (local.get $x)) (i64.const 3)))))
            (return (i32.sub (i32.load8_u (i32.add (local.get $a) (local.get $i)))
                             (i32.load8_u (i32.add (local.get $b) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $wide)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $y (i32.load8_u (i32.add (local.get $a) (local.get $i))))
        (local.set $z (i32.load8_u (i32.add (local.get $b) (local.get $i))))
        (if (i32.ne (local.get $y) (local.get $z)) (then (return (i32.sub (local.get $y) (local.get $z)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $al) (local.get $bl)))

  ;; Accepts ENTRY records from $p while each one lies whole before $end, is within the key and
  ;; value limits and has a key after the previous one ($prev, $prevLen; $prevLen < 0: none).
  ;; Returns where it stopped; sets entries, bytes, lastKey, lastKeyLen. Rejects nothing itself:
  ;; the caller's JavaScript reads the record it stopped at, and reports it.
  (func (export "scan") (param $p i32) (param $end i32) (param $maxKey i32) (param $maxValue i32) (param $prev i32) (param $prevLen i32) (result i32)
    (local $k i32) (local $kl i32) (local $vl i32) (local $n i32) (local $bytes i64)
    (block $stop
      (loop $next
        (br_if $stop (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 9)))
        (br_if $stop (i32.ne (i32.load8_u (local.get $p)) (i32.const 1)))
        (local.set $kl (i32.load offset=1 align=1 (local.get $p)))
        (local.set $vl (i32.load offset=5 align=1 (local.get $p)))
        (br_if $stop (i64.gt_u
          (i64.add (i64.extend_i32_u (local.get $kl)) (i64.extend_i32_u (local.get $vl)))
          (i64.extend_i32_u (i32.sub (i32.sub (local.get $end) (local.get $p)) (i32.const 9)))))
        (br_if $stop (i32.gt_u (local.get $kl) (local.get $maxKey)))
        (br_if $stop (i32.gt_u (local.get $vl) (local.get $maxValue)))
        (local.set $k (i32.add (local.get $p) (i32.const 9)))
        (if (i32.ge_s (local.get $prevLen) (i32.const 0))
          (then
            (br_if $stop (i32.ge_s (call $compare (local.get $prev) (local.get $prevLen) (local.get $k) (local.get $kl)) (i32.const 0)))))
        (local.set $prev (local.get $k))
        (local.set $prevLen (local.get $kl))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $bytes (i64.add (local.get $bytes) (i64.add (i64.extend_i32_u (local.get $kl)) (i64.extend_i32_u (local.get $vl)))))
        (local.set $p (i32.add (local.get $k) (i32.add (local.get $kl) (local.get $vl))))
        (br $next)))
    (global.set $entries (local.get $n))
    (global.set $bytes (local.get $bytes))
    (global.set $lastKey (local.get $prev))
    (global.set $lastKeyLen (local.get $prevLen))
    (local.get $p))
)
