;; LZ4 block-format decoding loop (LZ4_decompress_safe's input: sequences of a token, literals
;; and a match). Output is written at byte 0, input is at [$ip, $iend) after it; lz4.ts copies
;; the input in, bounds the declared size, and copies the output out. Every length and offset is
;; checked against the input end and the declared output size before any byte moves, exactly as
;; the JavaScript decoder (lz4.ts) does. Returns 0 on success or an error code (the messages
;; lz4.ts gives its WasmDecoder). Literals and matches up to 64 bytes move 16 or 8 bytes at a
;; time, as in snappy.wat (which says why that is safe). Regenerate lz4-wasm.ts with build-wasm.sh.
(module
  (memory (export "memory") 1)
  (func (export "decompress") (param $ip i32) (param $iend i32) (param $outLen i32) (result i32)
    (local $op i32) (local $token i32) (local $len i32) (local $b i32) (local $off i32) (local $i i32) (local $d i32) (local $n i32)
    (block $done
      (loop $sequence
        (if (i32.ge_u (local.get $ip) (local.get $iend)) (then (return (i32.const 1))))
        (local.set $token (i32.load8_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
        ;; literal run: high nibble, 15 means "add following bytes until one is < 255"
        (local.set $len (i32.shr_u (local.get $token) (i32.const 4)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then
            (loop $litbytes
              (if (i32.ge_u (local.get $ip) (local.get $iend)) (then (return (i32.const 2))))
              (local.set $b (i32.load8_u (local.get $ip)))
              (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
              (local.set $len (i32.add (local.get $len) (local.get $b)))
              (if (i32.gt_u (local.get $len) (local.get $outLen)) (then (return (i32.const 3))))
              (br_if $litbytes (i32.eq (local.get $b) (i32.const 255))))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $iend) (local.get $ip))) (then (return (i32.const 4))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $outLen) (local.get $op))) (then (return (i32.const 5))))
        (if (i32.le_u (local.get $len) (i32.const 64))
          (then
            (local.set $i (i32.const 0))
            (block $litdone
              (loop $lit16
                (br_if $litdone (i32.ge_u (local.get $i) (local.get $len)))
                (v128.store (i32.add (local.get $op) (local.get $i)) (v128.load (i32.add (local.get $ip) (local.get $i))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $lit16))))
          (else (memory.copy (local.get $op) (local.get $ip) (local.get $len))))
        (local.set $ip (i32.add (local.get $ip) (local.get $len)))
        (local.set $op (i32.add (local.get $op) (local.get $len)))
        ;; the last sequence is literals only and ends the input exactly
        (br_if $done (i32.eq (local.get $ip) (local.get $iend)))
        (if (i32.lt_u (i32.sub (local.get $iend) (local.get $ip)) (i32.const 2)) (then (return (i32.const 6))))
        (local.set $off (i32.load16_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 2)))
        (if (i32.or (i32.eqz (local.get $off)) (i32.gt_u (local.get $off) (local.get $op))) (then (return (i32.const 7))))
        ;; match length: low nibble + 4, 15 extends as above
        (local.set $len (i32.and (local.get $token) (i32.const 15)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then
            (loop $matchbytes
              (if (i32.ge_u (local.get $ip) (local.get $iend)) (then (return (i32.const 8))))
              (local.set $b (i32.load8_u (local.get $ip)))
              (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
              (local.set $len (i32.add (local.get $len) (local.get $b)))
              (if (i32.gt_u (local.get $len) (local.get $outLen)) (then (return (i32.const 9))))
              (br_if $matchbytes (i32.eq (local.get $b) (i32.const 255))))))
        (local.set $len (i32.add (local.get $len) (i32.const 4)))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $outLen) (local.get $op))) (then (return (i32.const 10))))
        (local.set $i (i32.const 0))
        (if (i32.gt_u (local.get $len) (i32.const 64))
          (then (if (i32.ge_u (local.get $off) (local.get $len))
            (then (memory.copy (local.get $op) (i32.sub (local.get $op) (local.get $off)) (local.get $len)))
            (else
              ;; overlapping: later bytes repeat the ones just written, so byte by byte
              (loop $bytes
                (i32.store8 (i32.add (local.get $op) (local.get $i))
                  (i32.load8_u (i32.sub (i32.add (local.get $op) (local.get $i)) (local.get $off))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $bytes (i32.lt_u (local.get $i) (local.get $len)))))))
          (else (if (i32.ge_u (local.get $off) (i32.const 16))
            (then
              (loop $copy16
                (v128.store (i32.add (local.get $op) (local.get $i))
                  (v128.load (i32.sub (i32.add (local.get $op) (local.get $i)) (local.get $off))))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br_if $copy16 (i32.lt_u (local.get $i) (local.get $len)))))
            (else
              (local.set $d (local.get $off))
              (if (i32.lt_u (local.get $off) (i32.const 8))
                (then
                  (loop $grow
                    (local.set $d (i32.add (local.get $d) (local.get $off)))
                    (br_if $grow (i32.lt_u (local.get $d) (i32.const 8))))
                  (local.set $n (select (local.get $len) (local.get $d) (i32.lt_u (local.get $len) (local.get $d))))
                  (loop $pattern
                    (i32.store8 (i32.add (local.get $op) (local.get $i))
                      (i32.load8_u (i32.sub (i32.add (local.get $op) (local.get $i)) (local.get $off))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $pattern (i32.lt_u (local.get $i) (local.get $n))))))
              (block $done8
                (loop $copy8
                  (br_if $done8 (i32.ge_u (local.get $i) (local.get $len)))
                  (i64.store (i32.add (local.get $op) (local.get $i))
                    (i64.load (i32.sub (i32.add (local.get $op) (local.get $i)) (local.get $d))))
                  (local.set $i (i32.add (local.get $i) (i32.const 8)))
                  (br $copy8)))))))
        (local.set $op (i32.add (local.get $op) (local.get $len)))
        (br $sequence)))
    (if (i32.ne (local.get $op) (local.get $outLen)) (then (return (i32.const 11))))
    (i32.const 0)))
