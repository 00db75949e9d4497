//! Masking of personal data in what others see (PIPL): phones, ID numbers, names on
//! public screens.

/// 13812345678 → 138****5678; short values are masked entirely but for the last digit.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

/// 110101199001011234 → 1101**********1234.
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 4, 4)
}

fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= head + tail {
        let keep = n.min(1);
        let mut out = "*".repeat(n - keep);
        out.extend(&chars[n - keep..]);
        return out;
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// A name shortened for public displays: 张三丰 → 张**.
pub fn shorten_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            let mut out = first.to_string();
            out.push_str(&"*".repeat(rest.min(2)));
            out
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_id_number("110101199001011234"), "1101**********1234");
        assert_eq!(mask_phone("1234"), "***4");
        assert_eq!(shorten_name("张三丰"), "张**");
        assert_eq!(shorten_name("李四"), "李*");
        assert_eq!(shorten_name(""), "");
    }
}
