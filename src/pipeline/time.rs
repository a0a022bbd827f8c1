//! Times as the agent and Azure DevOps write them (`System.PipelineStartTime`, a status's
//! `creationDate`), read without a clock or a crate: pure, so the decisions may use it.

/// A time as the agent writes `System.PipelineStartTime`: `2021-10-21 06:28:33+00:00`,
/// `2026-09-01 20:31:33-03:00` (servers give their local offset), or ISO 8601 with `T` and `Z`.
/// Anything else is `None`, never a panic.
pub(crate) fn parse_agent_time(value: &str) -> Option<std::time::SystemTime> {
    let v = value.trim();
    let num = |s: &str| -> Option<i64> { s.parse::<i64>().ok().filter(|_| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())) };
    let (date, rest) = v.split_at_checked(10)?;
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    let rest = rest.strip_prefix([' ', 'T'])?;
    let (time, zone) = rest.split_at_checked(8)?;
    let mut t = time.split(':');
    let (hh, mm, ss) = (num(t.next()?)?, num(t.next()?)?, num(t.next()?)?);
    // Fractions of a second, when present, are dropped.
    let zone = zone.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match zone {
        "Z" | "" => 0,
        z => {
            let sign = match z.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = z[1..].split_once(':').or_else(|| z.get(1..3).zip(z.get(3..5)))?;
            sign * (num(oh)? * 3600 + num(om)? * 60)
        }
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let days = crate::text::days_from_civil(y, m, day);
    let secs = days.checked_mul(86_400)?.checked_add(hh * 3600 + mm * 60 + ss)?.checked_sub(offset)?;
    let secs = u64::try_from(secs).ok()?;
    std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))
}

/// A time as SonarQube's web services take a date-time parameter (`minSubmittedAt`):
/// `2026-12-03T10:00:00+0000`, in UTC.
pub(crate) fn sonar_date_time(at: std::time::SystemTime) -> String {
    let secs = at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let (y, m, d) = crate::text::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sonarqube_date_times_read_back_as_the_same_time() {
        for text in ["2026-12-03T10:00:00+0000", "1970-01-01T00:00:00+0000", "2024-02-29T23:59:59+0000"] {
            assert_eq!(sonar_date_time(parse_agent_time(text).unwrap()), text);
        }
    }

    #[test]
    fn pipeline_start_times_in_the_agents_forms() {
        let secs = |v: &str| parse_agent_time(v).map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
        assert_eq!(secs("2021-10-21 06:28:33+00:00"), Some(1_634_797_713));
        assert_eq!(secs("2021-10-21T06:28:33Z"), Some(1_634_797_713));
        assert_eq!(secs("2021-10-21T06:28:33.1234567Z"), Some(1_634_797_713));
        assert_eq!(secs("2021-10-21 03:28:33-03:00"), Some(1_634_797_713));
        assert_eq!(secs("1970-01-01 00:00:00+00:00"), Some(0));
        for bad in ["", "yesterday", "2021-13-01 00:00:00Z", "2021-10-21", "2021-10-21 06:28:33+0", "9999999999-01-01 00:00:00Z"] {
            assert_eq!(parse_agent_time(bad), None, "{bad}");
        }
    }
}
