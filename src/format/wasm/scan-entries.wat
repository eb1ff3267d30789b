;; The per-entry work of the snapshot decoder (decoder.ts): walks consecutive ENTRY records of
;; bytes already in this memory and accepts each one that passes every check the decoder makes
;; on an ENTRY (spec/FORMAT.md 7.1): tag, key and value length limits, room in the chunk, key
;; strictly greater than the previous one. It stops BEFORE the first record it does not accept
;; (another tag, a failed check, a record running past $end) and never decides an error: the
;; JavaScript decoder reads that record and reports exactly what it always did.
;;
;; Memory: [0, 16) results of the last scan (u32: records accepted, key+value bytes, position
;; and length of the last accepted key); the caller places the previous key and the input
;; anywhere above. Regenerate scan-entries-wasm.ts with build-wasm.sh.
(module
  (memory (export "memory") 6)

  ;; 1 when [$b, $b+$bl) sorts strictly after [$a, $a+$al) (bytewise; a proper prefix first).
  (func $after (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (result i32)
    (local $n i32) (local $i i32) (local $x i32) (local $y i32)
    (local.set $n (select (local.get $al) (local.get $bl) (i32.lt_u (local.get $al) (local.get $bl))))
    ;; Equal 8-byte words are skipped whole; the first differing word is compared byte by byte.
    (block $words
      (loop $word
        (br_if $words (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
        (br_if $words (i64.ne (i64.load (i32.add (local.get $a) (local.get $i)))
                              (i64.load (i32.add (local.get $b) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $word)))
    (block $bytes
      (loop $byte
        (br_if $bytes (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (i32.load8_u (i32.add (local.get $a) (local.get $i))))
        (local.set $y (i32.load8_u (i32.add (local.get $b) (local.get $i))))
        (if (i32.ne (local.get $x) (local.get $y))
          (then (return (i32.gt_u (local.get $y) (local.get $x)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $byte)))
    (i32.gt_u (local.get $bl) (local.get $al)))

  ;; Accepts ENTRY records from $p on, none reaching past $end. $prevLen < 0: no previous key in
  ;; this table. $room: bytes the chunk still admits (max - used - 9; +inf when unchunked).
  ;; Returns the position after the last accepted record; results at [0, 16).
  (func (export "scan") (param $p i32) (param $end i32) (param $prev i32) (param $prevLen i32)
      (param $maxKey i32) (param $maxValue i32) (param $room f64) (result i32)
    (local $count i32) (local $bytes i32) (local $kl i32) (local $vl i32) (local $size i64)
    (block $stop
      (loop $record
        (br_if $stop (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 9)))
        (br_if $stop (i32.ne (i32.load8_u (local.get $p)) (i32.const 1)))
        (local.set $kl (i32.load (i32.add (local.get $p) (i32.const 1))))
        (local.set $vl (i32.load (i32.add (local.get $p) (i32.const 5))))
        (br_if $stop (i32.gt_u (local.get $kl) (local.get $maxKey)))
        (br_if $stop (i32.gt_u (local.get $vl) (local.get $maxValue)))
        ;; 9 + K + V as a u64: no overflow, whatever the lengths.
        (local.set $size (i64.add (i64.const 9)
          (i64.add (i64.extend_i32_u (local.get $kl)) (i64.extend_i32_u (local.get $vl)))))
        (br_if $stop (i64.gt_u (local.get $size) (i64.extend_i32_u (i32.sub (local.get $end) (local.get $p)))))
        (br_if $stop (f64.gt (f64.convert_i64_u (local.get $size)) (local.get $room)))
        (if (i32.ge_s (local.get $prevLen) (i32.const 0))
          (then
            (br_if $stop (i32.eqz (call $after (local.get $prev) (local.get $prevLen)
                                               (i32.add (local.get $p) (i32.const 9)) (local.get $kl))))))
        (local.set $room (f64.sub (local.get $room) (f64.convert_i64_u (local.get $size))))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (local.set $bytes (i32.add (local.get $bytes) (i32.add (local.get $kl) (local.get $vl))))
        (local.set $prev (i32.add (local.get $p) (i32.const 9)))
        (local.set $prevLen (local.get $kl))
        (local.set $p (i32.add (local.get $p) (i32.wrap_i64 (local.get $size))))
        (br $record)))
    (i32.store (i32.const 0) (local.get $count))
    (i32.store (i32.const 4) (local.get $bytes))
    (i32.store (i32.const 8) (local.get $prev))
    (i32.store (i32.const 12) (local.get $prevLen))
    (local.get $p))
)
