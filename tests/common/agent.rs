//! Commune machines in the system tests (issue 14): the real `loa serve` with agent
//! stations, nodes enrolled to it, and a loopback TCP proxy the test can cut.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::daemon::free_port;
use super::fixtures::{speech_like, write_wav, WavFormat};
use super::Loa;

pub const PLAN: &str = "[plan]\nname = \"Thử\"\nyear = 2026\n\n\
    [[station]]\ncode = \"vinh-an\"\nname = \"Xã Vĩnh An\"\nlevel = \"commune\"\noutput = \"agent\"\n\n\
    [[station]]\ncode = \"vinh-phuc\"\nname = \"Xã Vĩnh Phúc\"\nlevel = \"commune\"\noutput = \"agent\"\n\n\
    [[slot]]\nname = \"Sáng\"\nstations = [\"all\"]\ncron = \"0 6 * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n\n\
    [[slot]]\nname = \"Chiều\"\nstations = [\"all\"]\ncron = \"0 17 * * *\"\nlength = \"10m\"\ncchc = \"5m\"\n";

/// `loa serve` on a district data dir with [`PLAN`] and two bulletins for every station.
pub struct District {
    pub loa: Loa,
    pub child: Option<std::process::Child>,
    pub port: u16,
    pub plan: std::path::PathBuf,
}

impl Drop for District {
    fn drop(&mut self) {
        self.stop();
    }
}

impl District {
    pub fn new() -> District {
        let loa = Loa::init();
        let port = free_port();
        std::fs::write(
            loa.data.join("loa.toml"),
            format!("[playout]\nsink = \"null\"\n\n[http]\nbind = \"127.0.0.1:{port}\"\ntoken = \"0123456789abcdef0123456789abcdef\"\n"),
        )
        .unwrap();
        for (name, seconds) in [("mot.wav", 40), ("hai.wav", 30)] {
            let path = loa.dir.path().join(name);
            let samples = speech_like(16_000, 1, 800, 16_000 * seconds, 800);
            write_wav(&path, WavFormat::Pcm16, 16_000, 1, &samples, None);
            loa.run(&[
                "library",
                "add",
                path.to_str().unwrap(),
                "--kind",
                "news",
                "--topic",
                "documents",
                "--approve",
            ])
            .expect(0);
        }
        let plan = loa.dir.path().join("plan.toml");
        std::fs::write(&plan, PLAN).unwrap();
        let mut d = District {
            loa,
            child: None,
            port,
            plan,
        };
        d.start();
        d
    }

    pub fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_loa"))
            .args([
                "--data-dir",
                self.loa.data.to_str().unwrap(),
                "serve",
                "--plan",
            ])
            .arg(&self.plan)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "loa serve did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn token(&self, station: &str) -> String {
        let run = self
            .loa
            .run(&[
                "station",
                "enroll",
                station,
                "--plan",
                self.plan.to_str().unwrap(),
            ])
            .expect(0);
        run.stdout.lines().last().unwrap().trim().to_string()
    }

    /// An initialised node enrolled for `station` through `url`.
    pub fn node(&self, station: &str, url: &str) -> Loa {
        let node = Loa::init();
        let token = self.token(station);
        node.run(&["agent", "enroll", "--server", url, "--token", &token])
            .expect(0);
        node
    }
}

/// A loopback TCP proxy to the server that the test can cut (every connection dropped,
/// new ones refused at once) and restore.
pub struct Proxy {
    pub port: u16,
    /// While set, the server's answers are damaged in place: one byte in every
    /// [`CORRUPT_EVERY`] flipped, lengths unchanged (a bad cache on the way, a server serving
    /// the wrong bytes for a hash).
    pub corrupt: Arc<AtomicBool>,
    up: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

/// How far apart the bytes a corrupting proxy flips are, from this offset of each
/// connection's answers on (past a manifest, which comes first and is small).
pub const CORRUPT_EVERY: u64 = 150_000;

/// Copies `from` to `to`, flipping every [`CORRUPT_EVERY`]-th byte from `CORRUPT_EVERY` on
/// while `corrupt` is set.
fn copy_damaging(mut from: TcpStream, mut to: TcpStream, corrupt: Arc<AtomicBool>) {
    use std::io::{Read, Write};
    let mut buf = [0u8; 16 * 1024];
    let mut at: u64 = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if corrupt.load(Ordering::SeqCst) {
            for (i, b) in buf[..n].iter_mut().enumerate() {
                let pos = at + i as u64;
                if pos > 0 && pos % CORRUPT_EVERY == 0 {
                    *b ^= 0xff;
                }
            }
        }
        at += n as u64;
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

impl Proxy {
    pub fn to(target: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let corrupt = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, live2, corrupt2) = (up.clone(), live.clone(), corrupt.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                {
                    let mut l = live2.lock().unwrap();
                    l.push(client.try_clone().unwrap());
                    l.push(server.try_clone().unwrap());
                }
                let (mut from, mut to) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(Shutdown::Write);
                });
                let corrupt = corrupt2.clone();
                std::thread::spawn(move || copy_damaging(server, client, corrupt));
            }
        });
        Proxy {
            port,
            corrupt,
            up,
            live,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.live.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}
