//! Using conform as a library: run the shipped UDP spec against the built-in reference,
//! and against a server started in this process, and look at the typed verdicts.
//!
//! `cargo run --example library`

use std::net::UdpSocket;

use conform::api::{self, RunOptions, SpecInput, Target};
use conform::event::Verdict;
use conform::reference::{Serve, Shutdown, udp_server};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spec = SpecInput::Path("specs/udp.yaml".as_ref());
    let options = RunOptions {
        cases: Some(16),
        ..RunOptions::default()
    };

    // 1. Everything against the built-in reference.
    for result in api::check(spec, &Target::Reference, &options)? {
        println!("reference  {}  {}", result.verdict.word(), result.name);
    }

    // 2. Server scenarios against a server running in this process, on a port it chose.
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let addr = socket.local_addr()?;
    let stop = Shutdown::new();
    let server = {
        let stop = stop.clone();
        std::thread::spawn(move || udp_server(socket, Serve::Forever, &mut std::io::sink(), &stop))
    };
    let results = api::check(spec, &Target::Address(addr), &options)?;
    stop.trigger();
    server.join().expect("server thread")?;
    for result in &results {
        match &result.verdict {
            Verdict::Pass => println!("in-process PASS  {}", result.name),
            Verdict::Fail(f) | Verdict::Warn(f) => {
                let at = f.step.as_ref().map_or("before any step".to_string(), |s| {
                    format!("step {} `{}` (line {})", s.index, s.keyword, s.line)
                });
                println!(
                    "in-process {}  {} at {at}",
                    result.verdict.word(),
                    result.name
                );
            }
            Verdict::Skip(why) => println!("in-process SKIP  {} ({why})", result.name),
        }
    }
    Ok(())
}
