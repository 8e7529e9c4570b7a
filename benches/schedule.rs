//! Benchmarks of the schedule builder (`loa::schedule::build`): one week for a province-sized
//! network, the district plan's week, and how the time grows with stations and bulletins.
//!
//! Inputs are generated, deterministically: a plan text with N commune stations, two slots
//! a day and the district plan's rules; a library of M approved bulletins; and a year of
//! *synthesised* history (for every station, every slot instance of the 52 weeks before the
//! benched week, three items and two spots taken in rotation from the bulletins meant for
//! it), which is what the builder would have left behind in a full library.
//!
//! Run: `cargo bench --bench schedule` (results and how memory was measured:
//! docs/benchmarks.md, "Schedule builder").

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use common::{bulletin, code};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use loa::library::{Bulletin, BulletinId, Kind, Priority, Topic};
use loa::plan::Plan;
use loa::schedule::{build, Airing, Inputs, IsoWeek};

mod common;

/// The benched week: an ordinary autumn week, no campaign, no blackout.
const WEEK: &str = "2023-W41";

/// A small deterministic generator (64-bit LCG), so every run benches the same inputs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// The province plan with `stations` commune stations.
fn province_plan(stations: usize) -> Plan {
    loa::plan::check(&common::province_plan_text(stations), "province.toml")
        .unwrap_or_else(|r| panic!("{r}"))
}

/// `count` approved bulletins: 45 % news, 40 % articles, 5 % each columns (valid for one
/// quarter of 2023), spots and jingles; 30–300 s (spots and jingles 30–45 s); half the news
/// valid for 60 days only; one in five meant for a cluster of about 5 % of the stations.
fn library(count: usize, stations: usize) -> Vec<Bulletin> {
    let mut r = Lcg(count as u64);
    let year = NaiveDate::from_ymd_opt(2023, 1, 1).expect("date");
    (0..count as u64)
        .map(|n| {
            let kind = match n % 20 {
                0..=8 => Kind::News,
                9..=16 => Kind::Article,
                17 => Kind::Column,
                18 => Kind::Spot,
                _ => Kind::Jingle,
            };
            let seconds = match kind {
                Kind::Spot | Kind::Jingle => 30 + r.next(16),
                _ => 30 + r.next(271),
            };
            let mut b = bulletin(n + 1, kind, Topic::ALL[r.next(5) as usize], seconds);
            match kind {
                Kind::Column => {
                    let q = (n / 20 % 4) as u32;
                    b.meta.valid_from = NaiveDate::from_ymd_opt(2023, q * 3 + 1, 1);
                    b.meta.valid_until = NaiveDate::from_ymd_opt(2023, q * 3 + 3, 28);
                }
                Kind::News if r.next(2) == 0 => {
                    let from = year + chrono::Duration::days(r.next(365) as i64);
                    b.meta.valid_from = Some(from);
                    b.meta.valid_until = Some(from + chrono::Duration::days(60));
                }
                _ => {}
            }
            if r.next(5) == 0 {
                let cluster = (stations / 20).max(1);
                let first = r.next(stations as u64) as usize;
                b.meta.stations = (first..first + cluster)
                    .map(|i| code(i % stations + 1))
                    .collect();
            }
            if r.next(100) == 0 {
                b.meta.priority = Priority::Priority;
            }
            b
        })
        .collect()
}

/// A year of synthesised airings before `week` at every station: at each slot instance
/// (05:30 and 16:30 local, every day), three items and two spots meant for the station.
fn history(plan: &Plan, lib: &[Bulletin], week: IsoWeek) -> Vec<Airing> {
    let tz = plan.timezone;
    let first = week.monday() - chrono::Duration::weeks(52);
    let mut out = Vec::new();
    for (si, station) in plan.stations.iter().enumerate() {
        let items: Vec<&BulletinId> = lib
            .iter()
            .filter(|b| matches!(b.meta.kind, Kind::News | Kind::Article))
            .filter(|b| b.meta.targets(&station.code))
            .map(|b| &b.id)
            .collect();
        let spots: Vec<&BulletinId> = lib
            .iter()
            .filter(|b| b.meta.kind == Kind::Spot && b.meta.targets(&station.code))
            .map(|b| &b.id)
            .collect();
        let mut k = si * 7;
        let station_code: std::sync::Arc<str> = station.code.as_str().into();
        for day in first.iter_days().take(52 * 7) {
            for (h, m) in [(5, 30), (16, 30)] {
                let start = tz
                    .from_local_datetime(&day.and_hms_opt(h, m, 0).expect("time"))
                    .single()
                    .expect("no DST in Vietnam")
                    .with_timezone(&Utc);
                let mut push = |id: &BulletinId| {
                    out.push(Airing {
                        station: station_code.clone(),
                        bulletin: *id,
                        start,
                    })
                };
                for j in 0..3 {
                    push(items[(k + j) % items.len()]);
                }
                for j in 0..2 {
                    push(spots[(k + j) % spots.len()]);
                }
                k += 3;
            }
        }
    }
    out
}

/// Everything one benched build reads.
struct Case {
    plan: Plan,
    library: Vec<Bulletin>,
    history: Vec<Airing>,
    week: IsoWeek,
}

impl Case {
    fn province(stations: usize, bulletins: usize) -> Case {
        let plan = province_plan(stations);
        let library = library(bulletins, stations);
        let week: IsoWeek = WEEK.parse().expect("week");
        let history = history(&plan, &library, week);
        Case {
            plan,
            library,
            history,
            week,
        }
    }

    fn build(&self) -> loa::schedule::WeekSchedule {
        build(&Inputs {
            plan: &self.plan,
            library: &self.library,
            history: &self.history,
            week: self.week,
            station: None,
            pins: &[],
            exclusions: &[],
        })
    }
}

/// The province case, made once and shared by the benches that need it.
fn province() -> &'static Case {
    static CASE: OnceLock<Case> = OnceLock::new();
    CASE.get_or_init(|| Case::province(600, 2000))
}

/// The district plan with 60 bulletins (news and articles in every topic, a column per
/// quarter, spots, jingles) and four weeks of history made by the builder itself.
fn district() -> Case {
    let plan = loa::plan::check(
        include_str!("../schedules/vinh-loc-2023.toml"),
        "vinh-loc-2023.toml",
    )
    .unwrap_or_else(|r| panic!("{r}"));
    let mut library = Vec::new();
    let mut r = Lcg(60);
    for n in 0..50u64 {
        let kind = if n % 2 == 0 {
            Kind::News
        } else {
            Kind::Article
        };
        let topic = Topic::ALL[(n / 2 % 5) as usize];
        library.push(bulletin(n + 1, kind, topic, 30 + r.next(271)));
    }
    for q in 0..4u32 {
        let mut c = bulletin(100 + u64::from(q), Kind::Column, Topic::Examples, 240);
        c.meta.valid_from = NaiveDate::from_ymd_opt(2023, q * 3 + 1, 1);
        c.meta.valid_until = NaiveDate::from_ymd_opt(2023, q * 3 + 3, 28);
        library.push(c);
    }
    for n in 0..4u64 {
        library.push(bulletin(200 + n, Kind::Spot, Topic::ALL[n as usize], 15));
    }
    library.push(bulletin(300, Kind::Jingle, Topic::Other, 8));
    library.push(bulletin(301, Kind::Jingle, Topic::Other, 10));
    let week: IsoWeek = WEEK.parse().expect("week");
    let mut case = Case {
        plan,
        library,
        history: Vec::new(),
        week,
    };
    let mut w = week;
    for _ in 0..4 {
        w = w.prev();
    }
    for _ in 0..4 {
        case.week = w;
        for st in case.build().stations {
            for slot in st.slots {
                for i in slot.items {
                    case.history.push(Airing {
                        station: st.code.as_str().into(),
                        bulletin: i.bulletin_id,
                        start: slot.start.with_timezone(&Utc),
                    });
                }
            }
        }
        w = w.next();
    }
    case.week = week;
    case
}

fn bench_province(c: &mut Criterion) {
    let mut g = c.benchmark_group("province");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(1));
    // The inputs alone, so peak memory can be told apart from the build's own.
    g.bench_function("inputs_only", |b| {
        let case = province();
        b.iter(|| black_box(case.history.len() + case.library.len()))
    });
    g.bench_function("build_week_600_stations_2000_bulletins", |b| {
        let case = province();
        b.iter(|| black_box(case.build()))
    });
    g.finish();
}

fn bench_district(c: &mut Criterion) {
    let case = district();
    c.bench_function("district/build_week_14_stations_60_bulletins", |b| {
        b.iter(|| black_box(case.build()))
    });
}

fn bench_scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    for bulletins in [200, 2000] {
        for stations in [50, 150, 600] {
            let id = BenchmarkId::new(format!("{bulletins}_bulletins"), stations);
            // Made on first use, so a filtered run makes only the inputs it benches.
            let made = OnceLock::new();
            g.bench_with_input(id, &(stations, bulletins), |b, &(s, n)| {
                let case = if (s, n) == (600, 2000) {
                    province()
                } else {
                    made.get_or_init(|| Case::province(s, n))
                };
                b.iter(|| black_box(case.build()))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench_province, bench_district, bench_scaling);
criterion_main!(benches);
