//! Which namespaces a scenario's Reloader watches.
//!
//! A Reloader started for one scenario must never touch another's workloads, whatever flags
//! the scenario gives it. Reloader has two ways to narrow what it watches
//! (`internal/pkg/cmd/reloader.go`, `resolveWatchNamespaces`): an explicit `--namespaces` list
//! (scoped mode), or, in global mode, `--namespace-selector` (label requirements on
//! namespaces, joined with `,`, so every one must hold) and `--namespaces-to-ignore`.

/// The label every scenario namespace carries, its value the namespace's own name: what a
/// global-mode Reloader is narrowed to.
pub const SCENARIO_LABEL: &str = "akv-e2e.harness/scenario-namespace";

/// The flags for the Reloader of the scenario in `namespace`: the scenario's own, plus a
/// scope when they leave it open.
///
/// - The scenario lists `--namespaces` itself: its list is kept as written (scenarios name
///   their namespace `${namespace}`).
/// - It runs Reloader in global mode with `--namespace-selector` or `--namespaces-to-ignore`:
///   both keep their meaning, and a further selector requirement on [`SCENARIO_LABEL`] keeps
///   out every other scenario's namespace.
/// - Otherwise: `--namespaces=<namespace>`. Inside its own namespace this behaves as the
///   global-mode default of Reloader's chart.
#[must_use]
pub fn scoped_args(args: &[String], namespace: &str) -> Vec<String> {
    let mut out = args.to_vec();
    if has_flag(args, "namespaces") {
        return out;
    }
    if has_flag(args, "namespace-selector") || has_flag(args, "namespaces-to-ignore") {
        out.push(format!("--namespace-selector={SCENARIO_LABEL}={namespace}"));
    } else {
        out.push(format!("--namespaces={namespace}"));
    }
    out
}

/// True if `--name` appears as `--name`, `--name=...` (or pflag's single-dash forms).
fn has_flag(args: &[String], name: &str) -> bool {
    args.iter().any(|arg| {
        let bare = arg.trim_start_matches('-');
        arg.starts_with('-')
            && (bare == name || bare.strip_prefix(name).is_some_and(|r| r.starts_with('=')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scoped(args: &[&str]) -> Vec<String> {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        scoped_args(&args, "h-a-1234")
    }

    #[test]
    fn open_flags_are_scoped_to_the_scenario_namespace() {
        assert_eq!(scoped(&[]), ["--namespaces=h-a-1234"]);
        assert_eq!(
            scoped(&["--reload-strategy=annotations"]),
            ["--reload-strategy=annotations", "--namespaces=h-a-1234"]
        );
        // Flags that only look alike do not count as a scope.
        assert_eq!(
            scoped(&["--namespaces-x=1"]),
            ["--namespaces-x=1", "--namespaces=h-a-1234"]
        );
    }

    #[test]
    fn a_scenario_that_lists_namespaces_keeps_its_list() {
        assert_eq!(
            scoped(&["--namespaces=h-a-1234,other"]),
            ["--namespaces=h-a-1234,other"]
        );
        assert_eq!(
            scoped(&["--namespaces", "h-a-1234"]),
            ["--namespaces", "h-a-1234"]
        );
    }

    #[test]
    fn global_mode_filters_gain_the_scenario_label_requirement() {
        assert_eq!(
            scoped(&["--namespace-selector=team=a"]),
            [
                "--namespace-selector=team=a",
                "--namespace-selector=akv-e2e.harness/scenario-namespace=h-a-1234"
            ]
        );
        assert_eq!(
            scoped(&["--namespaces-to-ignore=kube-system"]),
            [
                "--namespaces-to-ignore=kube-system",
                "--namespace-selector=akv-e2e.harness/scenario-namespace=h-a-1234"
            ]
        );
    }
}
