;; C = A @ B, float32, for one matrix of a batch. B rows and C rows are contiguous (row
;; strides ldb, ldc); A is read through a row stride and a column stride, so a transposed
;; A needs no copy. M must be a multiple of 4 and N of 8 (the caller pads otherwise).
;; The memory is imported: on tfjs's wasm backend it is tfjs's own heap, so operands are
;; used where they lie. Strides are in bytes.
;; Also softmax over rows (see below), for the fused attention and cross-entropy kernels.
;; A 4x8 register tile: per k, two vector loads of a B row and four broadcast A values
;; give 16 multiply-adds on 8 accumulators (11 live v128 registers). K is taken in chunks of
;; 256, each pass over all of C adding to it, so the part of B a pass reads stays in cache
;; (a weight gradient's K is B*T = 2048: the whole of B is megabytes). Same sums, same order.
(module
  (import "env" "memory" (memory 1))
  (func (export "matmul")
    (param $a i32) (param $b i32) (param $c i32) (param $M i32) (param $K i32) (param $N i32)
    (param $sam i32) (param $sak i32) (param $ldb i32) (param $ldc i32)
    (local $k0 i32) (local $kc i32)
    (local.set $k0 (i32.const 0))
    (loop $chunks
      (local.set $kc (i32.sub (local.get $K) (local.get $k0)))
      (if (i32.gt_s (local.get $kc) (i32.const 256)) (then (local.set $kc (i32.const 256))))
      (call $pass
        (i32.add (local.get $a) (i32.mul (local.get $k0) (local.get $sak)))
        (i32.add (local.get $b) (i32.mul (local.get $k0) (local.get $ldb)))
        (local.get $c) (local.get $M) (local.get $kc) (local.get $N)
        (local.get $sam) (local.get $sak) (local.get $ldb) (local.get $ldc) (i32.ne (local.get $k0) (i32.const 0)))
      (local.set $k0 (i32.add (local.get $k0) (i32.const 256)))
      (br_if $chunks (i32.lt_s (local.get $k0) (local.get $K)))))

  ;; One pass: C = A @ B, or C += A @ B when $acc.
  (func $pass
    (param $a i32) (param $b i32) (param $c i32) (param $M i32) (param $K i32) (param $N i32)
    (param $sam i32) (param $sak i32) (param $ldb i32) (param $ldc i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $k i32) (local $sam2 i32) (local $sam3 i32)
    (local $rowA i32) (local $pa i32) (local $pb i32) (local $pc i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $sam2 (i32.shl (local.get $sam) (i32.const 1)))
    (local.set $sam3 (i32.add (local.get $sam2) (local.get $sam)))
    (local.set $i (i32.const 0))
    (block $done_i (loop $loop_i
      (br_if $done_i (i32.ge_u (local.get $i) (local.get $M)))
      (local.set $rowA (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sam))))
      (local.set $j (i32.const 0))
      (block $done_j (loop $loop_j
        (br_if $done_j (i32.ge_u (local.get $j) (local.get $N)))
        (local.set $pc (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc)))
          (i32.shl (local.get $j) (i32.const 2))))
        (if (local.get $acc)
          (then
            (local.set $c00 (v128.load (local.get $pc))) (local.set $c01 (v128.load offset=16 (local.get $pc)))
            (local.set $c10 (v128.load (i32.add (local.get $pc) (local.get $ldc))))
            (local.set $c11 (v128.load offset=16 (i32.add (local.get $pc) (local.get $ldc))))
            (local.set $c20 (v128.load (i32.add (local.get $pc) (i32.shl (local.get $ldc) (i32.const 1)))))
            (local.set $c21 (v128.load offset=16 (i32.add (local.get $pc) (i32.shl (local.get $ldc) (i32.const 1)))))
            (local.set $c30 (v128.load (i32.add (local.get $pc) (i32.mul (local.get $ldc) (i32.const 3)))))
            (local.set $c31 (v128.load offset=16 (i32.add (local.get $pc) (i32.mul (local.get $ldc) (i32.const 3))))))
          (else
            (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
            (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
            (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
            (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))))
        (local.set $pa (local.get $rowA))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $k (local.get $K))
        (block $done_k (loop $loop_k
          (br_if $done_k (i32.eqz (local.get $k)))
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $x (f32x4.splat (f32.load (local.get $pa))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (f32x4.splat (f32.load (i32.add (local.get $pa) (local.get $sam)))))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (f32x4.splat (f32.load (i32.add (local.get $pa) (local.get $sam2)))))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $x (f32x4.splat (f32.load (i32.add (local.get $pa) (local.get $sam3)))))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
          (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
          (local.set $pa (i32.add (local.get $pa) (local.get $sak)))
          (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $loop_k)))
        (local.set $pc (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc)))
          (i32.shl (local.get $j) (i32.const 2))))
        (v128.store (local.get $pc) (local.get $c00))
        (v128.store offset=16 (local.get $pc) (local.get $c01))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c10))
        (v128.store offset=16 (local.get $pc) (local.get $c11))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c20))
        (v128.store offset=16 (local.get $pc) (local.get $c21))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (v128.store (local.get $pc) (local.get $c30))
        (v128.store offset=16 (local.get $pc) (local.get $c31))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $loop_j)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $loop_i))))

  ;; exp of 4 floats (Cephes expf: 2^n * p(r), |r| <= ln2 / 2; ~1 ulp on [-87, 88]).
  (func $exp (param $x v128) (result v128)
    (local $fx v128) (local $z v128) (local $y v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (f32x4.splat (f32.const -87.3))) (f32x4.splat (f32.const 88.3))))
    (local.set $fx (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341)))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (f32x4.splat (f32.const 0.693359375)))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $y (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 5.0000001201e-1))))
    (local.set $y (f32x4.add (f32x4.add (f32x4.mul (local.get $y) (local.get $z)) (local.get $x)) (f32x4.splat (f32.const 1))))
    ;; times 2^fx: fx + 127 into the exponent bits
    (f32x4.mul (local.get $y)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $fx)) (i32x4.splat (i32.const 127))) (i32.const 23))))

  ;; In place, for each of `rows` rows of `cols` floats (row stride in bytes): the softmax of
  ;; scale * x over the row's first n entries, zeros after them. n = cols, or with $causal,
  ;; the row's index + 1 (a causal attention row). cols must be a multiple of 4.
  (func (export "softmax")
    (param $p i32) (param $rows i32) (param $cols i32) (param $stride i32) (param $scale f32) (param $causal i32)
    (local $r i32) (local $n i32) (local $j i32) (local $row i32) (local $at i32)
    (local $vscale v128) (local $vmax v128) (local $vsum v128) (local $x v128) (local $mask v128) (local $vn v128) (local $m f32)
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (local.set $r (i32.const 0))
    (block $done_r (loop $loop_r
      (br_if $done_r (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $row (i32.add (local.get $p) (i32.mul (local.get $r) (local.get $stride))))
      (local.set $n (select (i32.add (local.get $r) (i32.const 1)) (local.get $cols) (local.get $causal)))
      (if (i32.gt_u (local.get $n) (local.get $cols)) (then (local.set $n (local.get $cols))))
      (local.set $vn (i32x4.splat (local.get $n)))
      ;; the maximum of the first n
      (local.set $vmax (f32x4.splat (f32.const -inf)))
      (local.set $j (i32.const 0))
      (block $d1 (loop $l1
        (br_if $d1 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $mask (i32x4.lt_s (i32x4.add (i32x4.splat (local.get $j)) (v128.const i32x4 0 1 2 3)) (local.get $vn)))
        (local.set $x (v128.bitselect (f32x4.mul (v128.load (local.get $at)) (local.get $vscale)) (f32x4.splat (f32.const -inf)) (local.get $mask)))
        (local.set $vmax (f32x4.max (local.get $vmax) (local.get $x)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l1)))
      (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
                             (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax)))))
      ;; e = exp(scale x - max), zero past n; and their sum
      (local.set $vsum (f32x4.splat (f32.const 0)))
      (local.set $j (i32.const 0))
      (block $d2 (loop $l2
        (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $mask (i32x4.lt_s (i32x4.add (i32x4.splat (local.get $j)) (v128.const i32x4 0 1 2 3)) (local.get $vn)))
        (local.set $x (call $exp (f32x4.sub (f32x4.mul (v128.load (local.get $at)) (local.get $vscale)) (f32x4.splat (local.get $m)))))
        (local.set $x (v128.and (local.get $x) (local.get $mask)))
        (v128.store (local.get $at) (local.get $x))
        (local.set $vsum (f32x4.add (local.get $vsum) (local.get $x)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l2)))
      (local.set $vsum (f32x4.splat (f32.div (f32.const 1)
        (f32.add (f32.add (f32x4.extract_lane 0 (local.get $vsum)) (f32x4.extract_lane 1 (local.get $vsum)))
                 (f32.add (f32x4.extract_lane 2 (local.get $vsum)) (f32x4.extract_lane 3 (local.get $vsum)))))))
      ;; normalise; zeros from the next multiple of 4 to the end of the row
      (local.set $j (i32.const 0))
      (block $d3 (loop $l3
        (br_if $d3 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $at (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store (local.get $at) (f32x4.mul (v128.load (local.get $at)) (local.get $vsum)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l3)))
      (block $d4 (loop $l4
        (br_if $d4 (i32.ge_u (local.get $j) (local.get $cols)))
        (v128.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l4)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loop_r))))

  ;; The softmax's backward pass, in place of dp: for each row, with n as in softmax,
  ;; dp = p * (dp - sum(p * dp over the first n)) * scale on the first n, zeros after.
  ;; p and dp rows share the row stride. cols must be a multiple of 4.
  (func (export "softmax_grad")
    (param $p i32) (param $dp i32) (param $rows i32) (param $cols i32) (param $stride i32) (param $scale f32) (param $causal i32)
    (local $r i32) (local $n i32) (local $j i32) (local $rp i32) (local $rd i32) (local $o i32)
    (local $vn v128) (local $mask v128) (local $acc v128) (local $x v128) (local $dot v128) (local $vscale v128)
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (local.set $r (i32.const 0))
    (block $done_r (loop $loop_r
      (br_if $done_r (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $rp (i32.add (local.get $p) (i32.mul (local.get $r) (local.get $stride))))
      (local.set $rd (i32.add (local.get $dp) (i32.mul (local.get $r) (local.get $stride))))
      (local.set $n (select (i32.add (local.get $r) (i32.const 1)) (local.get $cols) (local.get $causal)))
      (if (i32.gt_u (local.get $n) (local.get $cols)) (then (local.set $n (local.get $cols))))
      (local.set $vn (i32x4.splat (local.get $n)))
      (local.set $acc (f32x4.splat (f32.const 0)))
      (local.set $j (i32.const 0))
      (block $d1 (loop $l1
        (br_if $d1 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $mask (i32x4.lt_s (i32x4.add (i32x4.splat (local.get $j)) (v128.const i32x4 0 1 2 3)) (local.get $vn)))
        (local.set $x (f32x4.mul (v128.load (i32.add (local.get $rp) (local.get $o))) (v128.load (i32.add (local.get $rd) (local.get $o)))))
        (local.set $acc (f32x4.add (local.get $acc) (v128.and (local.get $x) (local.get $mask))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l1)))
      (local.set $dot (f32x4.splat
        (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                 (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))))
      (local.set $j (i32.const 0))
      (block $d2 (loop $l2
        (br_if $d2 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $mask (i32x4.lt_s (i32x4.add (i32x4.splat (local.get $j)) (v128.const i32x4 0 1 2 3)) (local.get $vn)))
        (local.set $x (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $rp) (local.get $o)))
          (f32x4.sub (v128.load (i32.add (local.get $rd) (local.get $o))) (local.get $dot))) (local.get $vscale)))
        (v128.store (i32.add (local.get $rd) (local.get $o)) (v128.and (local.get $x) (local.get $mask)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l2)))
      (block $d3 (loop $l3
        (br_if $d3 (i32.ge_u (local.get $j) (local.get $cols)))
        (v128.store (i32.add (local.get $rd) (i32.shl (local.get $j) (i32.const 2))) (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l3)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $loop_r))))
)
