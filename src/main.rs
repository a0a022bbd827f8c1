//! The `sonar-pr-gate` binary: hands the command line and the environment to the library and exits
//! with the code it returns.

fn main() {
    let code = sonar_pr_gate::main_with(std::env::args_os(), sonar_pr_gate::AgentEnv::from_process());
    std::process::exit(code);
}
