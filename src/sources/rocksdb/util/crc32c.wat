;; CRC-32C slicing-by-8 inner loop. Memory: [0, 8192) the 8 lookup tables (uint32, little-endian,
;; table k at 1024 * k, written by crc32c.ts at load), input from byte 8192. Regenerate
;; crc32c-wasm.ts with build-wasm.sh.
(module
  (memory (export "memory") 1)
  ;; Extends the pre-inverted CRC $c over [$p, $end); returns the pre-inverted CRC.
  (func (export "extend") (param $c i32) (param $p i32) (param $end i32) (result i32)
    (local $a i32) (local $b i32)
    (block $done8
      (loop $by8
        (br_if $done8 (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
        (local.set $a (i32.xor (local.get $c) (i32.load (local.get $p))))
        (local.set $b (i32.load (i32.add (local.get $p) (i32.const 4))))
        (local.set $c
          (i32.xor
            (i32.xor
              (i32.xor
                (i32.load (i32.add (i32.const 7168) (i32.shl (i32.and (local.get $a) (i32.const 255)) (i32.const 2))))
                (i32.load (i32.add (i32.const 6144) (i32.shl (i32.and (i32.shr_u (local.get $a) (i32.const 8)) (i32.const 255)) (i32.const 2)))))
              (i32.xor
                (i32.load (i32.add (i32.const 5120) (i32.shl (i32.and (i32.shr_u (local.get $a) (i32.const 16)) (i32.const 255)) (i32.const 2))))
                (i32.load (i32.add (i32.const 4096) (i32.shl (i32.shr_u (local.get $a) (i32.const 24)) (i32.const 2))))))
            (i32.xor
              (i32.xor
                (i32.load (i32.add (i32.const 3072) (i32.shl (i32.and (local.get $b) (i32.const 255)) (i32.const 2))))
                (i32.load (i32.add (i32.const 2048) (i32.shl (i32.and (i32.shr_u (local.get $b) (i32.const 8)) (i32.const 255)) (i32.const 2)))))
              (i32.xor
                (i32.load (i32.add (i32.const 1024) (i32.shl (i32.and (i32.shr_u (local.get $b) (i32.const 16)) (i32.const 255)) (i32.const 2))))
                (i32.load (i32.shl (i32.shr_u (local.get $b) (i32.const 24)) (i32.const 2)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $by8)))
    (block $done1
      (loop $by1
        (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.xor
          (i32.load (i32.shl (i32.and (i32.xor (local.get $c) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 2)))
          (i32.shr_u (local.get $c) (i32.const 8))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $by1)))
    (local.get $c))
)
