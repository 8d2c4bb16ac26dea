//! Generated variants of template shaders. A template marks the lines to replace with
//! `//@NAME` … `//@END`; the shipped template is itself a valid kernel, so every variant is one
//! substitution away from code naga validates in the tests.

use super::{Kernel, KernelConfig};

/// The source a configuration compiles, for every kernel.
pub(super) fn source(c: &KernelConfig) -> String {
    let template = c.kernel.info().shader.source;
    match c.kernel {
        Kernel::MatmulTex => texture_matmul_source(&TexShape::of(c)),
        Kernel::MatmulTiled => tiled_matmul_source(&TileShape::of(c), false),
        Kernel::MatmulTiledF16 => tiled_matmul_source(&TileShape::of(c), true),
        Kernel::MatmulCoopF16 => coop_matmul_source(&CoopShape::of(c)),
        Kernel::Copy if c.get("TEX") == 1 => {
            texture_stream_source(template, &["src"], c.get("PER"))
        }
        Kernel::Triad if c.get("TEX") == 1 => {
            texture_stream_source(template, &["b", "c"], c.get("PER"))
        }
        Kernel::Copy | Kernel::Triad => stream_source(template, c.get("VEC"), c.get("PER")),
        Kernel::MatmulNaive
        | Kernel::MatmulBlocked
        | Kernel::MatmulF16
        | Kernel::MatmulInt8
        | Kernel::PeakFmaF32
        | Kernel::PeakFmaF16 => template.to_string(),
    }
}

/// Replaces each `//@NAME` … `//@END` block of `template` whose name is in `blocks`.
fn substitute(template: &str, blocks: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut skipping = false;
    for line in template.lines() {
        let t = line.trim();
        let block = t
            .strip_prefix("//@")
            .and_then(|name| blocks.iter().find(|(n, _)| *n == name));
        if let Some((_, text)) = block {
            out.push_str(text);
            skipping = true;
        } else if t == "//@END" {
            skipping = false;
        } else if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The block and register tile of the workgroup-tiled family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileShape {
    /// Rows of C per workgroup.
    pub bm: u32,
    /// Columns of C per workgroup.
    pub bn: u32,
    /// K values staged per step.
    pub bk: u32,
    /// Rows of C per invocation.
    pub tm: u32,
    /// Columns of C per invocation.
    pub tn: u32,
}

impl TileShape {
    /// The shape a configuration of a tiled kernel sets.
    pub fn of(c: &KernelConfig) -> TileShape {
        TileShape {
            bm: c.get("BM"),
            bn: c.get("BN"),
            bk: c.get("BK"),
            tm: c.get("TM"),
            tn: c.get("TN"),
        }
    }

    /// Invocations per workgroup.
    pub fn threads(&self) -> u32 {
        (self.bm / self.tm.max(1)) * (self.bn / self.tn.max(1))
    }

    /// Workgroup memory the double-buffered f32 tiles take.
    pub fn workgroup_bytes(&self) -> u64 {
        2 * 4 * u64::from(self.bk) * u64::from(self.bm + self.bn)
    }

    /// Why the shader cannot be generated for this shape, if it cannot: register tiles are
    /// whole vec4s, blocks are whole register tiles, K steps are whole vec4s, and each staged
    /// tile splits evenly into one or more vec4 loads per invocation.
    pub fn problem(&self) -> Option<String> {
        let TileShape { bm, bn, bk, tm, tn } = *self;
        if [bm, bn, bk, tm, tn].contains(&0) {
            return Some("tile sizes must be positive".to_string());
        }
        if !(tm.is_multiple_of(4) && tn.is_multiple_of(4) && bk.is_multiple_of(4)) {
            return Some(format!(
                "TM {tm}, TN {tn} and BK {bk} must be multiples of 4"
            ));
        }
        if !(bm.is_multiple_of(tm) && bn.is_multiple_of(tn)) {
            return Some(format!(
                "BM {bm} and BN {bn} must be multiples of TM and TN"
            ));
        }
        let threads = self.threads();
        let (a_vecs, b_vecs) = (bm * bk / 4, bk * bn / 4);
        if threads > a_vecs.min(b_vecs)
            || !a_vecs.is_multiple_of(threads)
            || !b_vecs.is_multiple_of(threads)
        {
            return Some(format!(
                "{threads} invocations must split the {a_vecs} and {b_vecs} vec4 tile loads evenly"
            ));
        }
        None
    }
}

/// The tiled matmul for `shape`, on f16 inputs (widened to f32 when staged) when `f16`.
pub fn tiled_matmul_source(shape: &TileShape, f16: bool) -> String {
    let TileShape { bm, bn, bk, tm, tn } = *shape;
    let consts = format!(
        "const BM: u32 = {bm}u;\nconst BN: u32 = {bn}u;\nconst BK: u32 = {bk}u;\n\
         const TM: u32 = {tm}u;\nconst TN: u32 = {tn}u;\n"
    );
    let (acc, step, store) = unrolled_register_tile(tm / 4, tn / 4);
    let blocks = [
        ("SHAPE", consts.as_str()),
        ("ACC", acc.as_str()),
        ("STEP", step.as_str()),
        ("STORE", store.as_str()),
    ];
    let source = substitute(Kernel::MatmulTiled.info().shader.source, &blocks);
    if !f16 {
        return source;
    }
    let source = source.replace("alias In4 = vec4<f32>;", "alias In4 = vec4<f16>;");
    format!("enable f16;\n{source}")
}

/// The tiled kernel's register tile written out for `tm4` row quads and `tn4` column quads:
/// accumulator declarations, one K step (loads from the staged tiles, then every FMA) and
/// the stores, each accumulator a named variable `acc_<row>_<quad>`.
fn unrolled_register_tile(tm4: u32, tn4: u32) -> (String, String, String) {
    let (mut acc, mut step, mut store) = (String::new(), String::new(), String::new());
    for i in 0..tm4 {
        step.push_str(&format!(
            "            let a_{i} = as_[cur][p * (BM / 4u) + {i}u * WG_Y + l.y];\n"
        ));
    }
    for j in 0..tn4 {
        step.push_str(&format!(
            "            let b_{j} = bs[cur][p * (BN / 4u) + {j}u * WG_X + l.x];\n"
        ));
    }
    for i in 0..tm4 {
        for (e, lane) in ["x", "y", "z", "w"].iter().enumerate() {
            let r = 4 * i + e as u32;
            store.push_str(&format!(
                "    let row_{r} = (row0 + 4u * ({i}u * WG_Y + l.y) + {e}u) * n4 + col40 + l.x;\n"
            ));
            for j in 0..tn4 {
                acc.push_str(&format!("    var acc_{r}_{j} = vec4<f32>(0.0);\n"));
                step.push_str(&format!(
                    "            acc_{r}_{j} = fma(vec4<f32>(a_{i}.{lane}), b_{j}, acc_{r}_{j});\n"
                ));
                store.push_str(&format!("    c[row_{r} + {j}u * WG_X] = acc_{r}_{j};\n"));
            }
        }
    }
    (acc, step, store)
}

/// The tiling of the cooperative-matrix family: matrix-unit tile side, subgroup size, subgroups
/// per workgroup along M and N, accumulator tiles per subgroup along M and N, and K staged per
/// step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoopShape {
    /// Side of one cooperative-matrix tile (8 or 16, as the adapter reports).
    pub tile: u32,
    /// Invocations per subgroup (the adapter's fixed subgroup size).
    pub sg: u32,
    /// Subgroups per workgroup along M.
    pub sgm: u32,
    /// Subgroups per workgroup along N.
    pub sgn: u32,
    /// Accumulator tiles per subgroup along M.
    pub tm: u32,
    /// Accumulator tiles per subgroup along N.
    pub tn: u32,
    /// K values staged in workgroup memory per step.
    pub bk: u32,
}

impl CoopShape {
    /// The shape a configuration of the cooperative kernel sets.
    pub fn of(c: &KernelConfig) -> CoopShape {
        CoopShape {
            tile: c.get("TILE"),
            sg: c.get("SG"),
            sgm: c.get("SGM"),
            sgn: c.get("SGN"),
            tm: c.get("TM"),
            tn: c.get("TN"),
            bk: c.get("BK"),
        }
    }

    /// Rows and columns of C one workgroup computes.
    pub fn block(&self) -> (u32, u32) {
        (
            self.sgm * self.tm * self.tile,
            self.sgn * self.tn * self.tile,
        )
    }

    /// Invocations per workgroup.
    pub fn threads(&self) -> u32 {
        self.sg * self.sgm * self.sgn
    }

    /// Workgroup memory of the staged f16 tiles.
    pub fn workgroup_bytes(&self) -> u64 {
        let (bm, bn) = self.block();
        2 * u64::from(self.bk) * u64::from(bm + bn)
    }

    /// Why no kernel can be generated for this shape, if none can.
    pub fn problem(&self) -> Option<String> {
        let CoopShape {
            tile,
            sg,
            sgm,
            sgn,
            tm,
            tn,
            bk,
        } = *self;
        if !matches!(tile, 8 | 16) {
            return Some(format!("TILE {tile} must be 8 or 16"));
        }
        if [sg, sgm, sgn, tm, tn, bk].contains(&0) || !bk.is_multiple_of(tile) {
            return Some(format!(
                "sizes must be positive and BK {bk} a multiple of {tile}"
            ));
        }
        let (bm, bn) = self.block();
        let threads = self.threads();
        if !(bm * bk / 4).is_multiple_of(threads) || !(bk * bn / 4).is_multiple_of(threads) {
            return Some(format!(
                "{threads} invocations must split the staged tiles' vec4 loads evenly"
            ));
        }
        None
    }
}

/// The cooperative-matrix matmul for `shape`: tile types, sizes and one named accumulator per
/// tile of each subgroup, with the multiply-adds of one K tile written out.
pub fn coop_matmul_source(shape: &CoopShape) -> String {
    let CoopShape {
        tile,
        sg,
        sgm,
        sgn,
        tm,
        tn,
        bk,
    } = *shape;
    let t = format!("coop_mat{tile}x{tile}");
    let consts = format!(
        "const TILE: u32 = {tile}u;\nconst SG: u32 = {sg}u;\nconst SGM: u32 = {sgm}u;\n\
         const SGN: u32 = {sgn}u;\nconst TM: u32 = {tm}u;\nconst TN: u32 = {tn}u;\n\
         const BK: u32 = {bk}u;\nalias TileA = {t}<f16, A>;\nalias TileB = {t}<f16, B>;\n\
         alias TileC = {t}<f32, C>;\n"
    );
    let (mut acc, mut mma, mut store) = (String::new(), String::new(), String::new());
    for i in 0..tm {
        mma.push_str(&format!(
            "            let a_{i} = coopLoadT<TileA>(&as_[(sr + {i}u * TILE) * BK + kk], BK);\n"
        ));
    }
    for j in 0..tn {
        mma.push_str(&format!(
            "            let b_{j} = coopLoadT<TileB>(&bs[kk * BN + sc + {j}u * TILE], BN);\n"
        ));
    }
    for i in 0..tm {
        for j in 0..tn {
            acc.push_str(&format!("    var acc_{i}_{j}: TileC;\n"));
            mma.push_str(&format!(
                "            acc_{i}_{j} = coopMultiplyAdd(a_{i}, b_{j}, acc_{i}_{j});\n"
            ));
            store.push_str(&format!(
                "    coopStoreT(acc_{i}_{j}, &c[(row0 + sr + {i}u * TILE) * dims.n + col0 + sc \
                 + {j}u * TILE], dims.n);\n"
            ));
        }
    }
    let blocks = [
        ("SHAPE", consts.as_str()),
        ("ACC", acc.as_str()),
        ("MMA", mma.as_str()),
        ("STORE", store.as_str()),
    ];
    substitute(Kernel::MatmulCoopF16.info().shader.source, &blocks)
}

/// A copy or triad variant moving elements of `vec` f32 words (1, 2 or 4), `per` per
/// invocation; `vec` 8 (copies only) moves the same bytes as `vec4<u64>`, because CPU drivers
/// split every storage access into one scalar access per lane and component, so 64-bit
/// components halve the accesses per byte (README, "Bandwidth on lavapipe").
pub fn stream_source(template: &str, vec: u32, per: u32) -> String {
    let ty = match vec {
        1 => "f32".to_string(),
        8 => "vec4<u64>".to_string(),
        w => format!("vec{w}<f32>"),
    };
    let shape = format!("alias V = {ty};\nconst PER: u32 = {per}u;\n");
    substitute(template, &[("SHAPE", &shape)])
}

/// A copy or triad variant reading its `inputs` (binding 0, 1, …) from read-only rgba32float
/// storage textures instead of storage buffers, `per` vec4 elements per invocation. Element
/// `i` is texel (`i mod width`, `i / width`), the width a power of two whose log2 the params
/// uniform carries (see [`super::stream_texture_extent`]).
pub fn texture_stream_source(template: &str, inputs: &[&str], per: u32) -> String {
    let shape = format!("alias V = vec4<f32>;\nconst PER: u32 = {per}u;\n");
    let mut declare = String::new();
    for (binding, name) in inputs.iter().enumerate() {
        declare.push_str(&format!(
            "@group(0) @binding({binding}) var {name}_tex: texture_storage_2d<rgba32float, read>;\n\
             // In range by construction: callers guard i < params.count, the texture's texel\n\
             // count (width × height, checked on the host), so x < width and y < height.\n\
             fn {name}_at(i: u32) -> V {{\n\
             \x20   let x = i & ((1u << params.width_log2) - 1u);\n\
             \x20   return textureLoad({name}_tex, vec2<u32>(x, i >> params.width_log2));\n}}\n"
        ));
    }
    substitute(template, &[("SHAPE", &shape), ("INPUTS", &declare)])
}

/// The register block and K unrolling of the texture-fed family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TexShape {
    /// Texels of A (4 rows each) per step along K.
    pub ra: u32,
    /// Texels of B (4 columns each) per step along K.
    pub cb: u32,
    /// Steps along K per loop iteration.
    pub ku: u32,
    /// Lanes of a subgroup that share A's texels (0: every invocation loads its own).
    pub share: u32,
}

impl TexShape {
    /// The shape a texture-fed configuration names.
    pub fn of(c: &KernelConfig) -> Self {
        TexShape {
            ra: c.get("RA"),
            cb: c.get("CB"),
            ku: c.get("KU"),
            share: c.get("SHARE"),
        }
    }
}

/// The texture matmul of `shape`: the template's `//@DECLARE`, `//@LOOP` and `//@STORE` blocks
/// are replaced by fully unrolled code with one named accumulator per 4-wide output, so every
/// accumulator is a register candidate. Each loop iteration first loads the texels of its
/// `ku` steps, then updates one accumulator at a time over those steps, so an accumulator the
/// driver keeps in memory is loaded and stored once per iteration rather than once per step.
/// With `share` lanes, the `//@PARAMS` and `//@SHARE` blocks add the subgroup builtins and a
/// check that the subgroup's lanes hold the same rows; A's texels are then loaded once per
/// subgroup, spread over its lanes, and broadcast.
pub fn texture_matmul_source(shape: &TexShape) -> String {
    let TexShape { ra, cb, ku, share } = *shape;
    let mut declare = String::new();
    let mut store = String::new();
    for r in 0..4 * ra {
        for j in 0..cb {
            declare.push_str(&format!("    var acc_{r}_{j} = vec4<f32>(0.0);\n"));
            store.push_str(&format!(
                "    c[(row0 + {r}u) * n4 + col0 + {j}u] = acc_{r}_{j};\n"
            ));
        }
    }
    let mut body = String::new();
    for u in 0..ku {
        for j in 0..cb {
            body.push_str(&format!(
                "        let b_{u}_{j} = textureLoad(bt, vec2<i32>(i32(col0 + {j}u), i32(p + {u}u)));\n"
            ));
        }
    }
    body.push_str(&texture_a_loads(shape));
    for q in 0..ra {
        for (e, lane) in ["x", "y", "z", "w"].iter().enumerate() {
            let r = 4 * q + e as u32;
            for j in 0..cb {
                for u in 0..ku {
                    body.push_str(&format!(
                        "        acc_{r}_{j} = fma(vec4<f32>(a_{u}_{q}.{lane}), b_{u}_{j}, acc_{r}_{j});\n"
                    ));
                }
            }
        }
    }
    let looped = format!("    for (var p = 0u; p < dims.k; p = p + {ku}u) {{\n{body}    }}\n");
    let (params, check) = if share > 0 {
        (SHARED_PARAMS, shared_rows_check(share))
    } else {
        (PLAIN_PARAMS, String::new())
    };
    let blocks = [
        ("PARAMS", params),
        ("SHARE", check.as_str()),
        ("DECLARE", declare.as_str()),
        ("LOOP", looped.as_str()),
        ("STORE", store.as_str()),
    ];
    substitute(Kernel::MatmulTex.info().shader.source, &blocks)
}

/// The entry point's builtins: the invocation's position.
const PLAIN_PARAMS: &str = "    @builtin(global_invocation_id) gid: vec3<u32>,\n";

/// The entry point's builtins when lanes share A: the invocation's position and lane.
const SHARED_PARAMS: &str = "    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) lanes: u32,
";

/// Sharing A is right only when the subgroup has `share` lanes that all hold the same rows
/// (on lavapipe: 8 lanes, consecutive invocations of a row of the workgroup). Otherwise the
/// subgroup stores nothing and leaves the poisoned output to fail verification, so a wrong
/// assumption can never pass as a fast kernel.
fn shared_rows_check(share: u32) -> String {
    format!(
        "    let rows_shared = subgroupAll(row40 == subgroupBroadcast(row40, 0u));\n\
         \x20   if (lanes != {share}u || !rows_shared) {{\n\
         \x20       return;\n\
         \x20   }}\n"
    )
}

/// The `let a_{u}_{q}` texels of A for one loop iteration: loaded by each invocation, or with
/// sharing loaded by the lanes in turn (texel `i` = step `i / ra`, texel `i % ra` of the
/// block, by lane `i % share` in load `i / share`) and broadcast.
fn texture_a_loads(shape: &TexShape) -> String {
    let TexShape { ra, ku, share, .. } = *shape;
    let mut out = String::new();
    if share == 0 {
        for u in 0..ku {
            for q in 0..ra {
                out.push_str(&format!(
                    "        let a_{u}_{q} = textureLoad(at, vec2<i32>(i32(row40 + {q}u), i32(p + {u}u)));\n"
                ));
            }
        }
        return out;
    }
    let texels = ra * ku;
    for t in 0..texels.div_ceil(share) {
        out.push_str(&format!(
            "        let i_{t} = lane + {}u;\n\
             \x20       let s_{t} = textureLoad(at, vec2<i32>(i32(row40 + i_{t} % {ra}u), i32(p + (i_{t} / {ra}u) % {ku}u)));\n",
            t * share
        ));
    }
    for i in 0..texels {
        let (u, q) = (i / ra, i % ra);
        out.push_str(&format!(
            "        let a_{u}_{q} = subgroupBroadcast(s_{}, {}u);\n",
            i / share,
            i % share
        ));
    }
    out
}
