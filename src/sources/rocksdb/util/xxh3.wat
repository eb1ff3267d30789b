;; XXH3_64bits long-input accumulation (xxHash 0.8 spec, default secret, seed 0): the stripe
;; and scramble loops that dominate kXXH3 block checksums. The merge of the 8 accumulators into
;; the final hash stays in xxh3.ts. Regenerate xxh3-wasm.ts with build-wasm.sh.
;;
;; Memory: [0, 192) secret, [256, 320) the 8 u64 accumulators, input from byte 1024.
(module
  (memory (export "memory") 1)
  (data (i32.const 0)
    "\b8\fe\6c\39\23\a4\4b\be\7c\01\81\2c\f7\21\ad\1c"
    "\de\d4\6d\e9\83\90\97\db\72\40\a4\a4\b7\b3\67\1f"
    "\cb\79\e6\4e\cc\c0\e5\78\82\5a\d0\7d\cc\ff\72\21"
    "\b8\08\46\74\f7\43\24\8e\e0\35\90\e6\81\3a\26\4c"
    "\3c\28\52\bb\91\c3\00\cb\88\d0\65\8b\1b\53\2e\a3"
    "\71\64\48\97\a2\0d\f9\4e\38\19\ef\46\a9\de\ac\d8"
    "\a8\fa\76\3f\e3\9c\34\3f\f9\dc\bb\c7\c7\0b\4f\1d"
    "\8a\51\e0\4b\cd\b4\59\31\c8\9f\7e\c9\d9\78\73\64"
    "\ea\c5\ac\83\34\d3\eb\c3\c5\81\a0\ff\fa\13\63\eb"
    "\17\0d\dd\51\b7\f0\da\49\d3\16\55\26\29\d4\68\9e"
    "\2b\16\be\58\7d\47\a1\fc\8f\f8\b8\d1\7a\d0\31\ce"
    "\45\cb\3a\8f\95\16\04\28\af\d7\fb\ca\bb\4b\40\7e")

  ;; One 64-byte stripe at $p with the secret at $s:
  ;; acc[i ^ 1] += lane_i; acc[i] += lo32(lane_i ^ secret_i) * hi32(lane_i ^ secret_i).
  (func $stripe (param $p i32) (param $s i32)
    (local $i i32) (local $v i64) (local $k i64) (local $a i32)
    (loop $lanes
      (local.set $v (i64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $k (i64.xor (local.get $v)
        (i64.load (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $a (i32.add (i32.const 256) (i32.shl (i32.xor (local.get $i) (i32.const 1)) (i32.const 3))))
      (i64.store (local.get $a) (i64.add (i64.load (local.get $a)) (local.get $v)))
      (local.set $a (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 3))))
      (i64.store (local.get $a) (i64.add (i64.load (local.get $a))
        (i64.mul (i64.and (local.get $k) (i64.const 0xffffffff)) (i64.shr_u (local.get $k) (i64.const 32)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $lanes (i32.lt_u (local.get $i) (i32.const 8)))))

  ;; acc[i] = (acc[i] ^ (acc[i] >> 47) ^ secret[128 + 8i]) * PRIME32_1
  (func $scramble
    (local $i i32) (local $a i32) (local $x i64)
    (loop $lanes
      (local.set $a (i32.add (i32.const 256) (i32.shl (local.get $i) (i32.const 3))))
      (local.set $x (i64.load (local.get $a)))
      (local.set $x (i64.xor (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 47)))
        (i64.load (i32.add (i32.const 128) (i32.shl (local.get $i) (i32.const 3))))))
      (i64.store (local.get $a) (i64.mul (local.get $x) (i64.const 0x9E3779B1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $lanes (i32.lt_u (local.get $i) (i32.const 8)))))

  ;; Accumulates the $len (> 240) input bytes at 1024 into the accumulators at 256.
  (func (export "accumulate") (param $len i32)
    (local $blocks i32) (local $n i32) (local $s i32) (local $base i32) (local $stripes i32)
    (i64.store (i32.const 256) (i64.const 0xC2B2AE3D))
    (i64.store (i32.const 264) (i64.const 0x9E3779B185EBCA87))
    (i64.store (i32.const 272) (i64.const 0xC2B2AE3D27D4EB4F))
    (i64.store (i32.const 280) (i64.const 0x165667B19E3779F9))
    (i64.store (i32.const 288) (i64.const 0x85EBCA77C2B2AE63))
    (i64.store (i32.const 296) (i64.const 0x85EBCA77))
    (i64.store (i32.const 304) (i64.const 0x27D4EB2F165667C5))
    (i64.store (i32.const 312) (i64.const 0x9E3779B1))
    ;; full 1024-byte blocks of 16 stripes, each followed by a scramble
    (local.set $blocks (i32.div_u (i32.sub (local.get $len) (i32.const 1)) (i32.const 1024)))
    (block $done_blocks
      (loop $each_block
        (br_if $done_blocks (i32.ge_u (local.get $n) (local.get $blocks)))
        (local.set $base (i32.add (i32.const 1024) (i32.shl (local.get $n) (i32.const 10))))
        (local.set $s (i32.const 0))
        (loop $each_stripe
          (call $stripe (i32.add (local.get $base) (i32.shl (local.get $s) (i32.const 6)))
                        (i32.shl (local.get $s) (i32.const 3)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br_if $each_stripe (i32.lt_u (local.get $s) (i32.const 16))))
        (call $scramble)
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $each_block)))
    ;; the partial last block's whole stripes
    (local.set $stripes (i32.shr_u
      (i32.sub (i32.sub (local.get $len) (i32.const 1)) (i32.shl (local.get $blocks) (i32.const 10)))
      (i32.const 6)))
    (local.set $base (i32.add (i32.const 1024) (i32.shl (local.get $blocks) (i32.const 10))))
    (local.set $s (i32.const 0))
    (block $done_stripes
      (loop $each_stripe
        (br_if $done_stripes (i32.ge_u (local.get $s) (local.get $stripes)))
        (call $stripe (i32.add (local.get $base) (i32.shl (local.get $s) (i32.const 6)))
                      (i32.shl (local.get $s) (i32.const 3)))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $each_stripe)))
    ;; the last 64 input bytes, secret at 192 - 64 - 7
    (call $stripe (i32.add (i32.const 960) (local.get $len)) (i32.const 121)))
)
