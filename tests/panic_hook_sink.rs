//! The panic hook delivering to a sink (`Destination::Sink`): a panic on a thread arrives at
//! a webhook on 127.0.0.1 as the filtered report, with the registered variables, once; the
//! hook's flush waits for it. Its own binary: the hook is process-wide.
#![cfg(feature = "webhook")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use safe_report::panic::{Destination, HookBuilder};
use safe_report::sinks::{Sink, WebhookConfig};
use serde_json::Value;

/// A webhook that answers 200 and keeps each body.
fn webhook() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            kept.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = writer
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

#[inline(never)]
fn charge(order_id: &str, card_number: &str) {
    safe_report::vars!(order_id, card_number)
        .sensitive(&["card_number"])
        .run(|| panic!("the gateway refused {order_id}"));
}

#[test]
fn a_panic_reaches_the_sink_filtered_with_its_variables() {
    let (url, bodies) = webhook();
    let sink = Sink::webhook(WebhookConfig::new(&url).unwrap()).unwrap();
    let hook = HookBuilder::new()
        .in_app_include(["panic_hook_sink"])
        .destination(Destination::Sink(sink.clone()))
        .install();
    let joined = std::thread::spawn(|| charge("ord_42", "4111111111111111")).join();
    assert!(joined.is_err());
    // The hook's flush waits for the report; the sink's for its delivery.
    drop(hook);
    assert!(sink.flush(Duration::from_secs(60)));
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let body: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(body["origin"], "panic");
    assert_eq!(body["report"]["exception_type"], "panic");
    assert!(!bodies[0].contains("4111111111111111"));
    let vars: Vec<&Value> = body["report"]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|frame| frame["vars"].as_array().unwrap())
        .collect();
    assert!(
        vars.iter()
            .any(|var| var["name"] == "order_id" && var["value"] == "\"ord_42\""),
        "{vars:?}"
    );
}
