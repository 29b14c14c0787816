// temporary exploration
use conform::spec::load_str;

fn show(name: &str, text: &str) {
    match load_str("t.yaml", text) {
        Ok(_) => println!("=== {name}: OK\n"),
        Err(e) => println!("=== {name}:\n{e}\n--- {:?}\n", e),
    }
}

const HEAD: &str = "scenarios:\n  - name: a\n    role: server\n    transport: tcp\n    steps:\n";

#[test]
fn explore() {
    show("unknown key", "scenarios:\n  - name: a\n    role: server\n    transport: tcp\n    stpes:\n      - connect\n");
    show("conect bare", &format!("{HEAD}      - conect\n"));
    show("conect map", &format!("{HEAD}      - conect: {{as: x}}\n"));
    show("steps 5", "scenarios:\n  - name: a\n    role: server\n    transport: tcp\n    steps: 5\n");
    show("role 3", "scenarios:\n  - name: a\n    role: 3\n    transport: tcp\n    steps:\n      - connect\n");
    show("role bad", "scenarios:\n  - name: a\n    role: sever\n    transport: tcp\n    steps:\n      - connect\n");
    show("role bad far", "scenarios:\n  - name: a\n    role: banana\n    transport: tcp\n    steps:\n      - connect\n");
    show("hex 0g", &format!("{HEAD}      - connect\n      - send: {{hex: \"0g\"}}\n"));
    show("hex odd", &format!("{HEAD}      - connect\n      - send: {{hex: \"012\"}}\n"));
    show("hex 0g block", &format!("{HEAD}      - connect\n      - send:\n          hex: \"0g\"\n"));
    show("regex", &format!("{HEAD}      - connect\n      - expect: {{regex: \"a(b\"}}\n"));
    show("line_regex", &format!("{HEAD}      - connect\n      - expect: {{line_regex: \"[z-a]\"}}\n"));
    show("neg dur", &format!("{HEAD}      - connect\n      - expect: {{line: hi, within: -1s}}\n"));
    show("zero dur", &format!("{HEAD}      - connect\n      - expect_silence: 0s\n"));
    show("unitless dur", &format!("{HEAD}      - connect\n      - pause: 5\n"));
    show("unitless float", &format!("{HEAD}      - connect\n      - pause: 1.5\n"));
    show("hour dur", &format!("{HEAD}      - connect\n      - pause: 61m\n"));
    show("file timeout", "timeout: 2h\nscenarios:\n  - name: a\n    role: server\n    transport: tcp\n    steps:\n      - connect\n");
    show("length", &format!("{HEAD}      - connect\n      - expect: {{length: 65508}}\n"));
    show("length ok", &format!("{HEAD}      - connect\n      - expect: {{length: 65507}}\n"));
    show("two kw", &format!("{HEAD}      - connect\n      - send: hi\n        expect: hi\n"));
    show("two payload", &format!("{HEAD}      - connect\n      - send: {{text: hi, hex: \"00\"}}\n"));
    show("no matcher", &format!("{HEAD}      - connect\n      - expect: {{within: 1s}}\n"));
    show("two matcher", &format!("{HEAD}      - connect\n      - expect: {{line: a, length: 3}}\n"));
    show("dup names", "scenarios:\n  - name: a\n    role: server\n    transport: tcp\n    steps:\n      - connect\n  - name: a\n    role: server\n    transport: tcp\n    steps:\n      - connect\n");
    show("empty", "");
    show("comments", "# hi\n\n   # there\n");
    show("version 2", "version: 2\nscenarios:\n  - name: a\n    role: server\n    transport: tcp\n    steps:\n      - connect\n");
    show("connect in client", "scenarios:\n  - name: a\n    role: client\n    transport: tcp\n    steps:\n      - connect\n");
    show("accept in udp client", "scenarios:\n  - name: a\n    role: client\n    transport: udp\n    steps:\n      - accept\n");
    show("eof udp", "scenarios:\n  - name: a\n    role: server\n    transport: udp\n    steps:\n      - connect\n      - expect_eof\n");
    show("expect first", &format!("{HEAD}      - expect: hi\n"));
    show("on nobody", &format!("{HEAD}      - connect\n      - expect: {{line: hi, on: nobody}}\n"));
    show("one_of single", &format!("{HEAD}      - connect\n      - expect_one_of:\n          - expect_eof\n"));
    show("one_of send", &format!("{HEAD}      - connect\n      - expect_one_of:\n          - expect_eof\n          - send: hi\n"));
    show("line newline", &format!("{HEAD}      - connect\n      - expect: {{line: \"a\\nb\"}}\n"));
    show("deep", &format!("{}{}", "[".repeat(500), "]".repeat(500)));
    show("deep in scen", &format!("scenarios: {}{}", "[".repeat(500), "]".repeat(500)));
    show("no scenarios", "description: x\n");
    show("empty scenarios", "scenarios: []\n");
    show("tab", "scenarios:\n\t- name: a\n");
}
