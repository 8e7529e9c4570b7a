//! What the API shows of a station's status and events: their values as codes and, beside
//! each value people read, its words in the language asked (`?lang=vi|en`).

use crate::lang::{Lang, Render};
use crate::playout::control::Event;

/// A station's status as the API shows it: values as codes, and beside each value people
/// read its words in `lang` (`alerts` are the words, `alert_codes` the values).
pub fn status_view(s: &crate::playout::control::Status, lang: Lang) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["alert_codes"] = v["alerts"].take();
    v["alerts"] = s.alerts.iter().map(|a| a.render(lang)).collect();
    if let Some(on_air) = &s.on_air {
        v["on_air"]["source_text"] = on_air.source.render(lang).into();
    }
    v
}

/// A commune machine's last report in a line of `lang` (times in `tz`): who, when, its
/// clock, its last sync, how far its schedule reaches, its disk, the rows not sent.
pub fn node_summary(
    n: &crate::playout::control::NodeSeen,
    lang: Lang,
    tz: chrono_tz::Tz,
) -> String {
    let local =
        |t: chrono::DateTime<chrono::Utc>, f: &str| t.with_timezone(&tz).format(f).to_string();
    let secs = |ms: i64| {
        let sign = if ms < 0 { "-" } else { "+" };
        let s = format!("{sign}{:.1}", ms.unsigned_abs() as f64 / 1000.0);
        match lang {
            Lang::Vi => s.replace('.', ","),
            Lang::En => s,
        }
    };
    let mut parts = Vec::new();
    match lang {
        Lang::Vi => {
            parts.push(format!(
                "máy xã {}: báo cáo lúc {}",
                n.node,
                local(n.reported_at, "%H:%M:%S %d/%m/%Y")
            ));
            if let (Some(o), Some(rtt)) = (n.clock_offset_ms, n.clock_rtt_ms) {
                parts.push(format!("đồng hồ lệch {} giây (khứ hồi {rtt} ms)", secs(o)));
            }
            if n.clock_held {
                parts.push("đang tạm dừng phát theo lịch vì đồng hồ sai".into());
            }
            parts.push(match n.last_sync {
                Some(t) => format!("đồng bộ lúc {}", local(t, "%H:%M %d/%m/%Y")),
                None => "chưa đồng bộ".into(),
            });
            if let Some(t) = n.manifest_until {
                parts.push(format!("có lịch đến {}", local(t, "%H:%M %d/%m/%Y")));
            }
            if let Some(mb) = n.disk_free_mb {
                parts.push(format!("ổ đĩa còn {mb} MB"));
            }
            parts.push(format!("nhật ký chưa gửi: {} dòng", n.unsent_rows));
        }
        Lang::En => {
            parts.push(format!(
                "commune machine {}: reported at {}",
                n.node,
                local(n.reported_at, "%H:%M:%S %d/%m/%Y")
            ));
            if let (Some(o), Some(rtt)) = (n.clock_offset_ms, n.clock_rtt_ms) {
                parts.push(format!("clock {} s off (round trip {rtt} ms)", secs(o)));
            }
            if n.clock_held {
                parts.push("scheduled playout held: the clock is wrong".into());
            }
            parts.push(match n.last_sync {
                Some(t) => format!("synced at {}", local(t, "%H:%M %d/%m/%Y")),
                None => "never synced".into(),
            });
            if let Some(t) = n.manifest_until {
                parts.push(format!("schedule until {}", local(t, "%H:%M %d/%m/%Y")));
            }
            if let Some(mb) = n.disk_free_mb {
                parts.push(format!("{mb} MB free"));
            }
            parts.push(format!("airlog rows not sent: {}", n.unsent_rows));
        }
    }
    parts.join(" · ")
}

/// An event as the API shows it: its values as codes and, beside each value people read,
/// its words in `lang` (`reason` and `summary` are words, `reason_stored` and
/// `summary_stored` the airlog's stored form; an alert's `message` is words, `alert` its
/// value).
pub fn event_view(e: &Event, lang: Lang) -> serde_json::Value {
    let mut v = serde_json::to_value(e).unwrap_or_default();
    match e {
        Event::SlotStarted { .. } => {}
        Event::ItemStarted { source, .. } => {
            v["source_text"] = source.render(lang).into();
        }
        Event::ItemEnded { status, reason, .. } => {
            v["status_text"] = status.render(lang).into();
            v["reason_stored"] = v["reason"].take();
            v["reason"] = reason.render(lang).into();
        }
        Event::SlotEnded {
            status, summary, ..
        } => {
            v["status_text"] = status.render(lang).into();
            v["summary_stored"] = v["summary"].take();
            v["summary"] = summary.render(lang).into();
        }
        Event::Alert { message, .. } => {
            v["alert"] = v["message"].take();
            v["message"] = message.render(lang).into();
        }
        Event::NodeReported { .. } => {}
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::airlog::{AirReason, AirStatus, Reason};
    use crate::playout::alert::Alert;

    fn ended() -> Event {
        Event::ItemEnded {
            station: "vinh-an".into(),
            bulletin: "b-1".into(),
            status: AirStatus::Interrupted,
            played_ms: 4_000,
            reason: AirReason::one(Reason::SkippedBy {
                who: "Nguyễn Văn An".into(),
            }),
        }
    }

    #[test]
    fn an_event_carries_its_codes_and_its_words_in_the_language_asked() {
        let vi = event_view(&ended(), Lang::Vi);
        let en = event_view(&ended(), Lang::En);
        assert_eq!(vi["status"], "interrupted");
        assert_eq!(vi["status_text"], "Bị ngắt");
        assert_eq!(en["status_text"], "interrupted");
        assert_eq!(vi["reason_stored"], en["reason_stored"]);
        let reason = AirReason::one(Reason::SkippedBy {
            who: "Nguyễn Văn An".into(),
        });
        assert_eq!(vi["reason"], reason.render(Lang::Vi));
        assert_eq!(en["reason"], reason.render(Lang::En));
        assert_ne!(vi["reason"], en["reason"]);
    }

    #[test]
    fn an_alert_event_reads_in_the_language_asked_and_keeps_its_value() {
        let e = Event::Alert {
            station: "vinh-an".into(),
            message: Alert::AirlogWritable,
        };
        let vi = event_view(&e, Lang::Vi);
        assert_eq!(vi["alert"]["kind"], "airlog_writable");
        assert_eq!(vi["message"], Alert::AirlogWritable.render(Lang::Vi));
        assert_eq!(
            event_view(&e, Lang::En)["message"],
            "airlog writes work again; held rows are written"
        );
    }

    #[test]
    fn a_status_lists_alerts_as_words_and_as_values() {
        let s = crate::playout::control::Status {
            alerts: vec![Alert::AirlogWritable],
            ..Default::default()
        };
        let v = status_view(&s, Lang::Vi);
        assert_eq!(v["alerts"][0], Alert::AirlogWritable.render(Lang::Vi));
        assert_eq!(v["alert_codes"][0]["kind"], "airlog_writable");
    }
}
