;; Snappy raw-block decoding loop (the elements after the varint length preamble, which snappy.ts
;; reads and bounds). Output is written at byte 0, input is at [$ip, $iend) after it. Every length
;; and offset is checked against the input end and the declared output size before any byte
;; moves. Returns 0 on success or an error code (the messages snappy.ts gives its WasmDecoder).
;;
;; Speed: a 4 KiB RocksDB block holds ~150 elements, most under 64 bytes. Short literals and
;; copies move 16 (or 8) bytes at a time and may write up to 15 bytes past their end: later
;; elements overwrite them (a copy only reads output before its start), and past the output's end
;; they land in the 16 bytes of slack wasm-decoder.ts leaves before the input; literal loads may
;; read up to 15 bytes past the input's end, which the decoder keeps inside the memory. A copy
;; whose offset is under 8 repeats its pattern byte by byte over the smallest multiple of the
;; offset that is at least 8, then 8 bytes at a time from that distance back. memory.copy is a
;; call out of the module, which costs more than a short copy: only long literals use it.
;; Regenerate snappy-wasm.ts with build-wasm.sh.
(module
  (memory (export "memory") 1)
  (func (export "decompress") (param $ip i32) (param $iend i32) (param $outLen i32) (result i32)
    (local $op i32) (local $tag i32) (local $len i32) (local $n i32) (local $off i32) (local $i i32) (local $d i32)
    (block $end
      (loop $element
        (br_if $end (i32.ge_u (local.get $ip) (local.get $iend)))
        (local.set $tag (i32.load8_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $tag) (i32.const 3)))
          (then
            ;; literal: length - 1 in the tag's upper 6 bits, or in 1..4 following bytes (60..63)
            (local.set $len (i32.shr_u (local.get $tag) (i32.const 2)))
            (if (i32.ge_u (local.get $len) (i32.const 60))
              (then
                (local.set $n (i32.sub (local.get $len) (i32.const 59)))
                (if (i32.gt_u (local.get $n) (i32.sub (local.get $iend) (local.get $ip)))
                  (then (return (i32.const 1))))
                (local.set $len (i32.const 0))
                (local.set $i (i32.const 0))
                (loop $lenbytes
                  (local.set $len (i32.or (local.get $len)
                    (i32.shl (i32.load8_u (i32.add (local.get $ip) (local.get $i)))
                             (i32.shl (local.get $i) (i32.const 3)))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $lenbytes (i32.lt_u (local.get $i) (local.get $n))))
                (local.set $ip (i32.add (local.get $ip) (local.get $n)))))
            ;; len is length - 1 here: compare before adding 1 so 0xffffffff cannot wrap
            (if (i32.ge_u (local.get $len) (i32.sub (local.get $iend) (local.get $ip)))
              (then (return (i32.const 2))))
            (local.set $len (i32.add (local.get $len) (i32.const 1)))
            (if (i32.gt_u (local.get $len) (i32.sub (local.get $outLen) (local.get $op)))
              (then (return (i32.const 3))))
            (if (i32.le_u (local.get $len) (i32.const 64))
              (then
                (local.set $i (i32.const 0))
                (loop $lit16
                  (v128.store (i32.add (local.get $op) (local.get $i)) (v128.load (i32.add (local.get $ip) (local.get $i))))
                  (local.set $i (i32.add (local.get $i) (i32.const 16)))
                  (br_if $lit16 (i32.lt_u (local.get $i) (local.get $len)))))
              (else (memory.copy (local.get $op) (local.get $ip) (local.get $len))))
            (local.set $ip (i32.add (local.get $ip) (local.get $len)))
            (local.set $op (i32.add (local.get $op) (local.get $len)))
            (br $element)))
        (if (i32.eq (i32.and (local.get $tag) (i32.const 3)) (i32.const 1))
          (then
            ;; copy, 1-byte offset: length 4..11, offset 11 bits
            (if (i32.ge_u (local.get $ip) (local.get $iend)) (then (return (i32.const 4))))
            (local.set $len (i32.add (i32.const 4) (i32.and (i32.shr_u (local.get $tag) (i32.const 2)) (i32.const 7))))
            (local.set $off (i32.or (i32.shl (i32.shr_u (local.get $tag) (i32.const 5)) (i32.const 8))
                                    (i32.load8_u (local.get $ip))))
            (local.set $ip (i32.add (local.get $ip) (i32.const 1))))
          (else
            (local.set $len (i32.add (i32.shr_u (local.get $tag) (i32.const 2)) (i32.const 1)))
            (if (i32.eq (i32.and (local.get $tag) (i32.const 3)) (i32.const 2))
              (then
                ;; copy, 2-byte offset
                (if (i32.lt_u (i32.sub (local.get $iend) (local.get $ip)) (i32.const 2)) (then (return (i32.const 4))))
                (local.set $off (i32.load16_u (local.get $ip)))
                (local.set $ip (i32.add (local.get $ip) (i32.const 2))))
              (else
                ;; copy, 4-byte offset
                (if (i32.lt_u (i32.sub (local.get $iend) (local.get $ip)) (i32.const 4)) (then (return (i32.const 4))))
                (local.set $off (i32.load (local.get $ip)))
                (local.set $ip (i32.add (local.get $ip) (i32.const 4)))))))
        (if (i32.or (i32.eqz (local.get $off)) (i32.gt_u (local.get $off) (local.get $op)))
          (then (return (i32.const 5))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $outLen) (local.get $op)))
          (then (return (i32.const 6))))
        ;; A copy is at most 64 bytes. Each chunk reads only output written before it.
        (local.set $i (i32.const 0))
        (if (i32.ge_u (local.get $off) (i32.const 16))
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
                ;; the pattern repeats every $off bytes, so also every $d (a multiple of $off, >= 8)
                (loop $grow
                  (local.set $d (i32.add (local.get $d) (local.get $off)))
                  (br_if $grow (i32.lt_u (local.get $d) (i32.const 8))))
                (local.set $n (select (local.get $len) (local.get $d) (i32.lt_u (local.get $len) (local.get $d))))
                (loop $bytes
                  (i32.store8 (i32.add (local.get $op) (local.get $i))
                    (i32.load8_u (i32.sub (i32.add (local.get $op) (local.get $i)) (local.get $off))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $bytes (i32.lt_u (local.get $i) (local.get $n))))))
            (block $done8
              (loop $copy8
                (br_if $done8 (i32.ge_u (local.get $i) (local.get $len)))
                (i64.store (i32.add (local.get $op) (local.get $i))
                  (i64.load (i32.sub (i32.add (local.get $op) (local.get $i)) (local.get $d))))
                (local.set $i (i32.add (local.get $i) (i32.const 8)))
                (br $copy8)))))
        (local.set $op (i32.add (local.get $op) (local.get $len)))
        (br $element)))
    (if (i32.ne (local.get $op) (local.get $outLen)) (then (return (i32.const 7))))
    (i32.const 0))
)
