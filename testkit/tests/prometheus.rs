//! Prometheus serves backfilled samples at a fixed time and scrapes a live target.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime};

use sluice_testkit::Prometheus;
use sluice_testkit::process::{is_alive, processes_in_group};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn backfilled_counters_give_exact_rates() {
    let t0 = now() - 3600;
    let mut data = String::from("# TYPE http_requests counter\n");
    for i in 0..=10 {
        let t = t0 + i * 10;
        data += &format!("http_requests_total{{status=\"200\"}} {} {t}\n", i * 200);
        data += &format!("http_requests_total{{status=\"500\"}} {} {t}\n", i * 10);
    }
    data += "# EOF\n";
    let mut prometheus = Prometheus::start_with_backfill(&data).unwrap();
    let result = prometheus
        .query(
            "sum(rate(http_requests_total{status!~\"5..\"}[60s])) / sum(rate(http_requests_total[60s])) * 100",
            Some(t0 + 100),
        )
        .await
        .unwrap();
    let value: f64 = result["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((value - 95.238).abs() < 0.001, "{result}");
    let pid = prometheus.pid();
    prometheus.stop();
    assert!(!is_alive(pid) && processes_in_group(pid).is_empty());
}

#[tokio::test]
async fn a_live_target_is_scraped_every_second() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let body = "demo_up 1\n";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let prometheus = Prometheus::start(&[target]).unwrap();
    let start = Instant::now();
    loop {
        let result = prometheus
            .query("up{job=\"app\"} == 1", None)
            .await
            .unwrap();
        if result["result"].as_array().is_some_and(|r| !r.is_empty()) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never scraped: {result}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let result = prometheus.query("demo_up", None).await.unwrap();
    assert_eq!(result["result"][0]["value"][1], "1");
}
