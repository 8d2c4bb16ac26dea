//! Typed facts about an adapter that code decides on: its device type and the
//! cooperative-matrix shapes it supports. They were text once (`device_type == "cpu"`,
//! `"16x16x16 f16->f32"` written by the GPU layer and parsed back by the tuner); as data, a
//! typo is a compile error and a simulated adapter is built from fields. Files keep the old
//! spellings: the device type's words are unchanged and the old shape text still loads.

use serde::{Deserialize, Serialize};

/// What kind of processor an adapter is. The strings are the ones result files have always
/// held, so old files load; code asks [`DeviceType::is_cpu`] instead of comparing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    /// A GPU with memory of its own.
    DiscreteGpu,
    /// A GPU sharing memory with the CPU.
    IntegratedGpu,
    /// A GPU presented by a hypervisor.
    VirtualGpu,
    /// A software rasteriser on the CPU (lavapipe, WARP, SwiftShader).
    Cpu,
    /// Anything the driver does not classify.
    Other,
}

impl DeviceType {
    /// The word result files hold for this type.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::DiscreteGpu => "discrete_gpu",
            DeviceType::IntegratedGpu => "integrated_gpu",
            DeviceType::VirtualGpu => "virtual_gpu",
            DeviceType::Cpu => "cpu",
            DeviceType::Other => "other",
        }
    }

    /// Whether the adapter runs on the host CPU, which sizes shapes down and is checked
    /// against host references.
    pub fn is_cpu(self) -> bool {
        self == DeviceType::Cpu
    }
}

impl std::fmt::Display for DeviceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Element type of a cooperative matrix's inputs or accumulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatrixScalar {
    /// 32-bit float.
    F32,
    /// 16-bit float.
    F16,
    /// 32-bit signed integer.
    I32,
    /// 32-bit unsigned integer.
    U32,
}

impl MatrixScalar {
    /// The lower-case word used in files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            MatrixScalar::F32 => "f32",
            MatrixScalar::F16 => "f16",
            MatrixScalar::I32 => "i32",
            MatrixScalar::U32 => "u32",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        match word {
            "f32" => Some(MatrixScalar::F32),
            "f16" => Some(MatrixScalar::F16),
            "i32" => Some(MatrixScalar::I32),
            "u32" => Some(MatrixScalar::U32),
            _ => None,
        }
    }
}

/// One cooperative-matrix configuration an adapter supports: `C (m×n) += A (m×k) · B (k×n)`
/// with `input` elements in A and B and `accumulator` elements in C. Kept as data so the tuner
/// and the kernel rules ask for a shape instead of parsing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CooperativeMatrixShape {
    /// Rows of A and C.
    pub m: u32,
    /// Columns of B and C.
    pub n: u32,
    /// Columns of A, rows of B.
    pub k: u32,
    /// Element type of A and B.
    pub input: MatrixScalar,
    /// Element type of C and the result.
    pub accumulator: MatrixScalar,
}

impl CooperativeMatrixShape {
    /// A square `side`³ tile with f16 inputs and f32 accumulation: the only kind WGSL's
    /// cooperative-matrix kernels here use.
    pub fn square_f16_f32(side: u32) -> Self {
        CooperativeMatrixShape {
            m: side,
            n: side,
            k: side,
            input: MatrixScalar::F16,
            accumulator: MatrixScalar::F32,
        }
    }

    /// The side of a square tile (m = n = k), if it is one.
    pub fn square_side(&self) -> Option<u32> {
        (self.m == self.n && self.n == self.k).then_some(self.m)
    }

    /// Reads the text form older files hold, `"16x16x16 f16->f32"`.
    pub fn parse_text(text: &str) -> Option<Self> {
        let (dims, types) = text.trim().split_once(' ')?;
        let (input, accumulator) = types.trim().split_once("->")?;
        let mut sides = dims.split('x').map(|v| v.parse::<u32>().ok());
        let (m, n, k) = (sides.next()??, sides.next()??, sides.next()??);
        if sides.next().is_some() {
            return None;
        }
        Some(CooperativeMatrixShape {
            m,
            n,
            k,
            input: MatrixScalar::parse(input)?,
            accumulator: MatrixScalar::parse(accumulator)?,
        })
    }
}

impl std::fmt::Display for CooperativeMatrixShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}x{}x{} {}->{}",
            self.m,
            self.n,
            self.k,
            self.input.as_str(),
            self.accumulator.as_str()
        )
    }
}

/// The two forms a shape has had in files: typed fields, or the older text.
#[derive(Deserialize)]
#[serde(untagged)]
enum ShapeOnDisk {
    Text(String),
    Fields(ShapeFields),
}

/// The typed form, read strictly like every other record.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapeFields {
    m: u32,
    n: u32,
    k: u32,
    input: MatrixScalar,
    accumulator: MatrixScalar,
}

impl<'de> Deserialize<'de> for CooperativeMatrixShape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match ShapeOnDisk::deserialize(d)? {
            ShapeOnDisk::Text(text) => Self::parse_text(&text).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "cooperative-matrix shape {text:?} is not of the form \"16x16x16 f16->f32\""
                ))
            }),
            ShapeOnDisk::Fields(f) => Ok(CooperativeMatrixShape {
                m: f.m,
                n: f.n,
                k: f.k,
                input: f.input,
                accumulator: f.accumulator,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_types_keep_the_words_files_hold() {
        for (word, t) in [
            ("discrete_gpu", DeviceType::DiscreteGpu),
            ("integrated_gpu", DeviceType::IntegratedGpu),
            ("virtual_gpu", DeviceType::VirtualGpu),
            ("cpu", DeviceType::Cpu),
            ("other", DeviceType::Other),
        ] {
            let json = format!("\"{word}\"");
            assert_eq!(serde_json::from_str::<DeviceType>(&json).unwrap(), t);
            assert_eq!(serde_json::to_string(&t).unwrap(), json);
            assert_eq!(t.to_string(), word);
        }
        assert!(serde_json::from_str::<DeviceType>("\"gpu\"").is_err());
        assert!(DeviceType::Cpu.is_cpu() && !DeviceType::Other.is_cpu());
    }

    #[test]
    fn shapes_load_from_old_text_and_new_fields_alike() {
        let want = CooperativeMatrixShape::square_f16_f32(16);
        let old: CooperativeMatrixShape = serde_json::from_str("\"16x16x16 f16->f32\"").unwrap();
        assert_eq!(old, want);
        let written = serde_json::to_string(&want).unwrap();
        assert_eq!(
            written,
            r#"{"m":16,"n":16,"k":16,"input":"f16","accumulator":"f32"}"#
        );
        assert_eq!(
            serde_json::from_str::<CooperativeMatrixShape>(&written).unwrap(),
            want
        );
        assert_eq!(want.to_string(), "16x16x16 f16->f32");
        let mixed = CooperativeMatrixShape::parse_text("8x16x32 i32->u32").unwrap();
        assert_eq!((mixed.m, mixed.n, mixed.k), (8, 16, 32));
        assert_eq!(mixed.square_side(), None);
    }

    #[test]
    fn malformed_shapes_are_refused() {
        for bad in [
            "16x16 f16->f32",
            "16x16x16x16 f16->f32",
            "16x16x16 f16",
            "axbxc f16->f32",
        ] {
            assert!(CooperativeMatrixShape::parse_text(bad).is_none(), "{bad}");
        }
        let err = serde_json::from_str::<CooperativeMatrixShape>("\"16x16x16 bf16->f32\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("16x16x16 bf16->f32"), "{err}");
        let extra = r#"{"m":8,"n":8,"k":8,"input":"f16","accumulator":"f32","x":1}"#;
        assert!(serde_json::from_str::<CooperativeMatrixShape>(extra).is_err());
    }
}
