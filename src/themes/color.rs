//! The colour conversion of upstream's theme tools (`colorFormatter(v, "hsl", "3")` in
//! `@jpisnice/shadcn-ui-mcp-server` 2.0.0's `color-converter.ts`), ported step for step so the
//! CSS it writes is upstream's to the last digit: hex, comma `rgb()`/`hsl()` and `oklch()` in,
//! `H S% L%` out. The float operations keep JavaScript's order, `Math.max`/`min` keep NaN, and
//! numbers print as JavaScript does (`toFixed(4)` rounds exact ties up). Anything that does
//! not parse (fonts, `0px`, space-separated `hsl(0 0% 0%)`) is returned unchanged, as upstream
//! returns it.

use std::sync::LazyLock;

use regex::Regex;

/// A colour in sRGB, each channel 0..1 (not clamped, but for oklch).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rgb {
    r: f64,
    g: f64,
    b: f64,
}

static HEX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9A-Fa-f]{3}$|^[0-9A-Fa-f]{4}$|^[0-9A-Fa-f]{6}$|^[0-9A-Fa-f]{8}$").unwrap()
});
static RGB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)rgba?\s*\(\s*([0-9]+(?:\.[0-9]+)?%?)\s*,\s*([0-9]+(?:\.[0-9]+)?%?)\s*,\s*([0-9]+(?:\.[0-9]+)?%?)\s*(?:,\s*([0-9]+(?:\.[0-9]+)?)\s*)?\)",
    )
    .unwrap()
});
static HSL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)hsla?\s*\(\s*([0-9]+(?:\.[0-9]+)?)\s*,\s*([0-9]+(?:\.[0-9]+)?)%\s*,\s*([0-9]+(?:\.[0-9]+)?)%\s*(?:,\s*([0-9]+(?:\.[0-9]+)?)\s*)?\)",
    )
    .unwrap()
});
static OKLCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)oklch\s*\(\s*([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s*(?:/\s*([0-9.]+)\s*)?\)")
        .unwrap()
});

/// `colorFormatter(value, "hsl", "3")`: `217.2193 91.2195% 59.8039%`, or `value` unchanged.
pub fn to_hsl(value: &str) -> String {
    match parse(value) {
        Some(rgb) => {
            let (h, s, l) = rgb_to_hsl(rgb);
            format!(
                "{} {}% {}%",
                format_number(h),
                format_number(s * 100.0),
                format_number(l * 100.0)
            )
        }
        None => value.to_owned(),
    }
}

fn parse(value: &str) -> Option<Rgb> {
    // JavaScript's trim also takes the byte-order mark.
    let trimmed = value.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if let Some(hex) = trimmed.strip_prefix('#') {
        if !HEX.is_match(hex) {
            return None;
        }
        let byte = |s: &str| u8::from_str_radix(s, 16).expect("checked hex") as f64;
        let (r, g, b) = if hex.len() <= 4 {
            let digit = |i: usize| byte(&hex[i..i + 1].repeat(2));
            (digit(0), digit(1), digit(2))
        } else {
            (byte(&hex[0..2]), byte(&hex[2..4]), byte(&hex[4..6]))
        };
        return Some(Rgb {
            r: r / 255.0,
            g: g / 255.0,
            b: b / 255.0,
        });
    }
    if let Some(c) = RGB.captures(trimmed) {
        let channel = |s: &str| {
            let n = parse_float(s);
            if s.contains('%') {
                n / 100.0
            } else {
                n / 255.0
            }
        };
        return Some(Rgb {
            r: channel(&c[1]),
            g: channel(&c[2]),
            b: channel(&c[3]),
        });
    }
    if let Some(c) = HSL.captures(trimmed) {
        let h = parse_float(&c[1]);
        let s = parse_float(&c[2]) / 100.0;
        let l = parse_float(&c[3]) / 100.0;
        return Some(hsl_to_rgb(h, s, l));
    }
    if let Some(c) = OKLCH.captures(trimmed) {
        return Some(oklch_to_rgb(
            parse_float(&c[1]),
            parse_float(&c[2]),
            parse_float(&c[3]),
        ));
    }
    None
}

/// `parseFloat` on what the patterns let through: digits with at most one `.` taken, the
/// rest ignored; nothing numeric is NaN.
fn parse_float(s: &str) -> f64 {
    let mut end = 0;
    let mut dot = false;
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => end += 1,
            b'.' if !dot => {
                dot = true;
                end += 1;
            }
            _ => break,
        }
    }
    match &s[..end] {
        "" | "." => f64::NAN,
        number => number.parse().unwrap_or(f64::NAN),
    }
}

/// `Math.max` and `Math.min`: NaN in, NaN out.
fn js_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a > b {
        a
    } else {
        b
    }
}

fn js_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a < b {
        a
    } else {
        b
    }
}

fn rgb_to_hsl(Rgb { r, g, b }: Rgb) -> (f64, f64, f64) {
    let max = js_max(js_max(r, g), b);
    let min = js_min(js_min(r, g), b);
    let mut h = 0.0;
    let mut s = 0.0;
    let l = (max + min) / 2.0;
    // NaN != NaN, as in JavaScript: NaN goes in, and no hue case matches.
    if max != min {
        let d = max - min;
        s = if l > 0.5 {
            d / (2.0 - max - min)
        } else {
            d / (max + min)
        };
        if max == r {
            h = ((g - b) / d + if g < b { 6.0 } else { 0.0 }) / 6.0;
        } else if max == g {
            h = ((b - r) / d + 2.0) / 6.0;
        } else if max == b {
            h = ((r - g) / d + 4.0) / 6.0;
        }
    }
    (h * 360.0, s, l)
}

fn hsl_to_rgb(h: f64, s: f64, l: f64) -> Rgb {
    let h = h / 360.0;
    if s == 0.0 {
        return Rgb { r: l, g: l, b: l };
    }
    let hue_to_rgb = |p: f64, q: f64, mut t: f64| {
        if t < 0.0 {
            t += 1.0;
        }
        if t > 1.0 {
            t -= 1.0;
        }
        if t < 1.0 / 6.0 {
            return p + (q - p) * 6.0 * t;
        }
        if t < 1.0 / 2.0 {
            return q;
        }
        if t < 2.0 / 3.0 {
            return p + (q - p) * (2.0 / 3.0 - t) * 6.0;
        }
        p
    };
    let q = if l < 0.5 {
        l * (1.0 + s)
    } else {
        l + s - l * s
    };
    let p = 2.0 * l - q;
    Rgb {
        r: hue_to_rgb(p, q, h + 1.0 / 3.0),
        g: hue_to_rgb(p, q, h),
        b: hue_to_rgb(p, q, h - 1.0 / 3.0),
    }
}

fn oklch_to_rgb(l: f64, c: f64, h: f64) -> Rgb {
    let h = h * (std::f64::consts::PI / 180.0);
    let a = c * h.cos();
    let b = c * h.sin();
    let l_ = l + 0.3963377774 * a + 0.2158037573 * b;
    let m_ = l - 0.1055613458 * a - 0.0638541728 * b;
    let s_ = l - 0.0894841775 * a - 1.291506236 * b;
    let (l3, m3, s3) = (l_ * l_ * l_, m_ * m_ * m_, s_ * s_ * s_);
    let r = 4.0767416621 * l3 - 3.3077363322 * m3 + 0.2309101289 * s3;
    let g = -1.2684380046 * l3 + 2.6097574011 * m3 - 0.3413193761 * s3;
    let b = -0.0041960863 * l3 - 0.7034186147 * m3 + 1.707614701 * s3;
    let to_srgb = |c: f64| {
        if c <= 0.0031308 {
            12.92 * c
        } else {
            1.055 * c.powf(1.0 / 2.4) - 0.055
        }
    };
    let clip = |c: f64| js_max(0.0, js_min(1.0, to_srgb(c)));
    Rgb {
        r: clip(r),
        g: clip(g),
        b: clip(b),
    }
}

/// `formatNumber`: `0` for zero and NaN, a whole number as JavaScript prints it, else
/// `toFixed(4)` (the whole-number test comes before rounding: `220.0000`).
fn format_number(n: f64) -> String {
    if n == 0.0 || n.is_nan() {
        "0".to_owned()
    } else if n % 1.0 == 0.0 {
        format!("{n}")
    } else {
        to_fixed_4(n)
    }
}

/// `Number.prototype.toFixed(4)`: from the double's exact decimal expansion, exact ties
/// rounded up (Rust's `{:.4}` rounds them to even).
fn to_fixed_4(n: f64) -> String {
    // A double's exact expansion has at most 1074 fractional digits.
    let exact = format!("{:.1100}", n.abs());
    let (whole, fraction) = exact.split_once('.').expect("a fraction");
    let mut digits: Vec<u8> = whole.bytes().chain(fraction.bytes().take(4)).collect();
    if fraction.as_bytes()[4] >= b'5' {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - 4;
    let text = String::from_utf8(digits).expect("ASCII digits");
    let sign = if n < 0.0 { "-" } else { "" };
    format!("{sign}{}.{}", &text[..split], &text[split..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_outputs_to_the_last_digit() {
        // From upstream's own answers (theme-tools-upstream-outputs.txt).
        for (input, output) in [
            ("#ffffff", "0 0% 100%"),
            ("#333333", "0 0% 20%"),
            ("#3b82f6", "217.2193 91.2195% 59.8039%"),
            ("#f3f4f6", "220.0000 14.2857% 95.8824%"),
            ("oklch(1 0 0)", "180.0000 100% 99.9981%"),
            ("hsl(0 0% 0%)", "hsl(0 0% 0%)"),
            ("0px", "0px"),
            ("Geist Mono, monospace", "Geist Mono, monospace"),
            ("#fff", "0 0% 100%"),
            ("rgb(255, 0, 0)", "0 100% 50%"),
            ("hsl(120, 100%, 50%)", "120 100% 50%"),
            ("#12", "#12"),
        ] {
            assert_eq!(to_hsl(input), output, "{input}");
        }
    }

    #[test]
    fn to_fixed_rounds_exact_ties_up_as_javascript_does() {
        assert_eq!(to_fixed_4(0.03125), "0.0313");
        assert_eq!(to_fixed_4(0.15625), "0.1563");
        assert_eq!(to_fixed_4(99.99999), "100.0000");
        // The double nearest -1.00005 lies just above it in magnitude: not a tie.
        assert_eq!(to_fixed_4(-1.00005), "-1.0001");
        assert_eq!(format_number(f64::NAN), "0");
        assert_eq!(format_number(100.0), "100");
    }
}
