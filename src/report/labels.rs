//! The words of the reports in Vietnamese (first) and English, the title of a period and
//! the issuing body taken from the plan's name.

use chrono::NaiveDate;

use crate::library::{Kind, Topic};

use super::{date_vi, roman, Lang, Period, PeriodName};

/// Every fixed word a report prints.
#[derive(Debug)]
pub struct Words {
    pub summary_sheet: &'static str,
    pub detail_sheet: &'static str,
    pub integrity_sheet: &'static str,
    pub nation: &'static str,
    pub motto: &'static str,
    pub title: &'static str,
    pub station: &'static str,
    pub total: &'static str,
    pub items: &'static str,
    pub airings: &'static str,
    pub minutes: &'static str,
    pub rows: &'static str,
    pub sec_counts: &'static str,
    pub sec_topics: &'static str,
    pub sec_producers: &'static str,
    pub sec_compliance: &'static str,
    pub sec_incidents: &'static str,
    pub sec_integrity: &'static str,
    pub producer: &'static str,
    pub unknown: &'static str,
    pub rule: &'static str,
    pub required: &'static str,
    pub aired: &'static str,
    pub percent: &'static str,
    pub met: &'static str,
    pub weeks_met: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub reasons: &'static str,
    pub skipped_slots: &'static str,
    pub no_plan: &'static str,
    pub judged_by: &'static str,
    pub version: &'static str,
    pub not_kept: &'static str,
    pub time: &'static str,
    pub title_col: &'static str,
    pub status: &'static str,
    pub reason: &'static str,
    pub no_incidents: &'static str,
    pub slots_heading: &'static str,
    pub slots_col: &'static str,
    pub more_incidents: &'static str,
    pub range: &'static str,
    pub digest: &'static str,
    pub digest_rule: &'static str,
    pub digest_rule_text: &'static str,
    pub last_hash: &'static str,
    pub store_head: &'static str,
    pub by_status: &'static str,
    pub recipients: &'static str,
    pub signer: &'static str,
}

/// Vietnamese.
pub const VI: Words = Words {
    summary_sheet: "Tổng hợp",
    detail_sheet: "Chi tiết",
    integrity_sheet: "Toàn vẹn",
    nation: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    motto: "Độc lập - Tự do - Hạnh phúc",
    title: "Báo cáo kết quả tuyên truyền cải cách hành chính trên hệ thống truyền thanh",
    station: "Đài",
    total: "Tổng cộng",
    items: "số tin, bài",
    airings: "Lượt phát",
    minutes: "Số phút phát",
    rows: "Số dòng nhật ký",
    sec_counts: "1. Số lượng tin, bài, chuyên mục, khẩu hiệu đã phát",
    sec_topics: "2. Theo nội dung tuyên truyền (mục III của Kế hoạch)",
    sec_producers: "3. Theo đơn vị thực hiện",
    sec_compliance: "4. Kết quả thực hiện so với Kế hoạch",
    sec_incidents: "5. Sự cố (lỗi phát, không phát, phát không trọn, bị ngắt)",
    sec_integrity: "6. Thông tin xác thực dữ liệu",
    producer: "Đơn vị thực hiện",
    unknown: "(không rõ)",
    rule: "Yêu cầu của Kế hoạch",
    required: "Phải phát",
    aired: "Đã phát",
    percent: "Tỷ lệ (%)",
    met: "Đánh giá",
    weeks_met: "Số tuần đạt",
    yes: "Đạt",
    no: "Chưa đạt",
    reasons: "Lý do chưa đạt",
    skipped_slots: "Buổi phát không thực hiện theo Kế hoạch",
    no_plan: "Không có Kế hoạch (không chỉ định tệp và chưa lưu lịch phát nào): không đánh giá.",
    judged_by: "Đánh giá theo Kế hoạch",
    version: "phiên bản",
    not_kept: "chưa lưu trong cơ sở dữ liệu",
    time: "Thời gian",
    title_col: "Tiêu đề",
    status: "Trạng thái",
    reason: "Lý do",
    no_incidents: "Không có sự cố.",
    slots_heading: "Các buổi phát theo nhật ký phát sóng",
    slots_col: "Buổi phát",
    more_incidents: "sự cố khác: xem bảng chi tiết (CSV/XLSX)",
    range: "Khoảng thời gian",
    digest: "SHA-256 của các dòng xuất",
    digest_rule: "Cách tính",
    digest_rule_text: "SHA-256 trên mã băm (row_hash) của từng dòng đã xuất, theo thứ tự xuất, mỗi mã kèm một ký tự xuống dòng (\\n)",
    last_hash: "Mã băm dòng cuối đã xuất",
    store_head: "Đầu chuỗi trong cơ sở dữ liệu",
    by_status: "Số dòng theo trạng thái",
    recipients: "Nơi nhận:",
    signer: "GIÁM ĐỐC",
};

/// English.
pub const EN: Words = Words {
    summary_sheet: "Summary",
    detail_sheet: "Detail",
    integrity_sheet: "Integrity",
    nation: "SOCIALIST REPUBLIC OF VIET NAM",
    motto: "Independence - Freedom - Happiness",
    title: "Report on administrative-reform communication on the radio network",
    station: "Station",
    total: "Total",
    items: "items",
    airings: "Airings",
    minutes: "Minutes on air",
    rows: "Log rows",
    sec_counts: "1. News items, articles, columns and spots aired",
    sec_topics: "2. By topic (section III of the plan)",
    sec_producers: "3. By producer unit",
    sec_compliance: "4. Compliance with the plan",
    sec_incidents: "5. Incidents (failed, skipped, partial, interrupted)",
    sec_integrity: "6. Integrity",
    producer: "Producer unit",
    unknown: "(unknown)",
    rule: "Plan rule",
    required: "Required",
    aired: "Aired",
    percent: "Percent",
    met: "Verdict",
    weeks_met: "Weeks met",
    yes: "Met",
    no: "Not met",
    reasons: "Why not met",
    skipped_slots: "Slots not run by the plan",
    no_plan: "No plan given or kept: compliance not evaluated.",
    judged_by: "Judged by the plan",
    version: "version",
    not_kept: "not kept in the database",
    time: "Time",
    title_col: "Title",
    status: "Status",
    reason: "Reason",
    no_incidents: "No incidents.",
    slots_heading: "Slot instances in the airlog",
    slots_col: "Slot instances",
    more_incidents: "more incidents: see the detail rows (CSV/XLSX)",
    range: "Period",
    digest: "SHA-256 of the exported rows",
    digest_rule: "Defined as",
    digest_rule_text: super::integrity::DIGEST_RULE,
    last_hash: "Row hash of the last exported row",
    store_head: "Chain head in the database",
    by_status: "Rows by status",
    recipients: "Recipients:",
    signer: "DIRECTOR",
};

/// The words of a language.
pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// A kind's name in a language.
pub fn kind(lang: Lang, k: Kind) -> &'static str {
    match lang {
        Lang::Vi => k.label_vi(),
        Lang::En => match k {
            Kind::News => "News items",
            Kind::Article => "Articles",
            Kind::Column => "Columns",
            Kind::Spot => "Spots",
            Kind::Jingle => "Jingles",
        },
    }
}

/// One item's kind in a language, as a table cell shows it ("Tin", "news").
pub fn kind_one(lang: Lang, k: Kind) -> &'static str {
    match lang {
        Lang::Vi => k.label_vi(),
        Lang::En => k.as_str(),
    }
}

/// A topic's name in a language, with its clause.
pub fn topic(lang: Lang, t: Topic) -> String {
    match lang {
        Lang::Vi => format!("{} {}", t.clause(), t.label_vi()),
        Lang::En => format!(
            "{} {}",
            t.clause(),
            match t {
                Topic::Documents => "Central and provincial documents",
                Topic::EProcedures => "Electronic procedures, public postal service",
                Topic::ProcedureControl => "Procedure control, citizens' feedback",
                Topic::Examples => "Good examples and criticism",
                Topic::Other => "Other reform tasks",
            }
        ),
    }
}

/// The report's title for a period.
pub fn title(lang: Lang, p: &Period) -> String {
    let w = words(lang);
    match (lang, p.name) {
        (Lang::Vi, PeriodName::Quarter(y, q)) => format!("{}, quý {} năm {y}", w.title, roman(q)),
        (Lang::Vi, PeriodName::Year(y)) => format!("{} năm {y}", w.title),
        (Lang::Vi, PeriodName::Range) => format!(
            "{} từ ngày {} đến ngày {}",
            w.title,
            date_vi(p.from),
            date_vi(p.to)
        ),
        (Lang::En, PeriodName::Quarter(y, q)) => format!("{}, Q{q} {y}", w.title),
        (Lang::En, PeriodName::Year(y)) => format!("{}, year {y}", w.title),
        (Lang::En, PeriodName::Range) => {
            format!("{}, {} to {}", w.title, date_vi(p.from), date_vi(p.to))
        }
    }
}

/// The issuing body (two lines) and the place, from the plan's name: "… huyện Vĩnh Lộc"
/// gives "UBND HUYỆN VĨNH LỘC" and "Vĩnh Lộc"; a plan naming no district gives Vĩnh Lộc's.
pub fn issuer(plan_name: Option<&str>) -> (String, String, String) {
    let centre = "TRUNG TÂM VĂN HÓA, THÔNG TIN, THỂ THAO VÀ DU LỊCH".to_string();
    let name = plan_name.unwrap_or("");
    let lower = name.to_lowercase();
    let place = lower
        .find("huyện ")
        .map(|i| {
            // Byte offsets agree: "huyện " has the same bytes in either case.
            let rest = &name[i + "huyện ".len()..];
            rest.split([',', '(', '—', '-', ';'])
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "Vĩnh Lộc".to_string());
    (
        format!("UBND HUYỆN {}", place.to_uppercase()),
        centre,
        place,
    )
}

/// "Vĩnh Lộc, ngày 05 tháng 04 năm 2023" (or the English date).
pub fn place_date(lang: Lang, place: &str, d: NaiveDate) -> String {
    match lang {
        Lang::Vi => format!("{place}, {}", d.format("ngày %d tháng %m năm %Y")),
        Lang::En => format!("{place}, {}", date_vi(d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_comes_from_the_plan_name() {
        let (a, b, place) = issuer(Some("Kế hoạch tuyên truyền CCHC năm 2023 — huyện Vĩnh Lộc"));
        assert_eq!(a, "UBND HUYỆN VĨNH LỘC");
        assert!(b.starts_with("TRUNG TÂM VĂN HÓA"));
        assert_eq!(place, "Vĩnh Lộc");
        assert_eq!(issuer(Some("Kế hoạch huyện Cẩm Thủy, 2024")).2, "Cẩm Thủy");
        assert_eq!(issuer(None).0, "UBND HUYỆN VĨNH LỘC");
    }

    #[test]
    fn a_quarter_title_uses_roman_numerals_and_the_date_line_spells_day_month_year() {
        let q = Period::quarter("2023-Q1").unwrap();
        assert_eq!(
            title(Lang::Vi, &q),
            "Báo cáo kết quả tuyên truyền cải cách hành chính trên hệ thống truyền thanh, quý I năm 2023"
        );
        let d = NaiveDate::from_ymd_opt(2023, 4, 5).unwrap();
        assert_eq!(
            place_date(Lang::Vi, "Vĩnh Lộc", d),
            "Vĩnh Lộc, ngày 05 tháng 04 năm 2023"
        );
    }
}
