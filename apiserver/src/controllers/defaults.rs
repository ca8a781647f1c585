//! What kube-apiserver does to workload objects and pods on write, before the controllers
//! see them: defaulting (`replicas: 1`, rolling-update strategies, pod template defaults
//! such as `restartPolicy`, `dnsPolicy` and `imagePullPolicy`), the checks clients trip
//! over most (selectors that do not match the template, immutable selectors, Job restart
//! policies, CronJob schedules), Job selector generation, the scheduling of new pods and
//! Service cluster IPs.

use serde_json::{Value, json};

use super::{cron, ipam, kubelet, util};
use crate::backend::Backend;
use crate::errors::{ApiError, Cause};
use crate::resources::ResourceType;

/// Defaults, validates and completes an object being created (called by the backend for
/// every create, after decoding).
///
/// # Errors
/// 422 for the invalid objects kube-apiserver refuses (see the module docs).
pub fn prepare_create(
    backend: &Backend,
    rt: &ResourceType,
    object: &mut Value,
) -> Result<(), ApiError> {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => {
            default_pod(object);
            kubelet::schedule(backend, object)?;
        }
        ("", "Service") => ipam::prepare_create(backend, rt, object)?,
        ("batch", "Job") => {
            default_job(object);
            generate_job_selector(object);
            validate_job(rt, object, None)?;
        }
        _ => prepare_workload(rt, object, None)?,
    }
    Ok(())
}

/// Defaults and validates an object being updated; `old` is the stored object.
///
/// # Errors
/// 422 for the invalid changes kube-apiserver refuses (see the module docs).
pub fn prepare_update(
    backend: &Backend,
    rt: &ResourceType,
    old: &Value,
    new: &mut Value,
) -> Result<(), ApiError> {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => {
            default_pod(new);
            // A pod stays where it was bound.
            if util::str_at(new, &["spec", "nodeName"]).is_none()
                && let Some(node) = util::at(old, &["spec", "nodeName"])
            {
                new["spec"]["nodeName"] = node.clone();
            }
        }
        ("", "Service") => ipam::prepare_update(backend, rt, old, new)?,
        ("batch", "Job") => {
            default_job(new);
            // Clients replacing a Job may leave out what the server generated.
            for path in [
                &["spec", "selector"][..],
                &["spec", "template", "metadata", "labels"][..],
            ] {
                if util::at(new, path).is_none()
                    && let Some(value) = util::at(old, path)
                {
                    set(new, path, value.clone());
                }
            }
            validate_job(rt, new, Some(old))?;
        }
        _ => prepare_workload(rt, new, Some(old))?,
    }
    Ok(())
}

/// Defaults and validation of the apps workloads and CronJobs.
fn prepare_workload(
    rt: &ResourceType,
    object: &mut Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment") => {
            default(object, &["spec", "replicas"], json!(1));
            default(
                object,
                &["spec", "strategy", "type"],
                json!("RollingUpdate"),
            );
            if util::str_at(object, &["spec", "strategy", "type"]) == Some("RollingUpdate") {
                default(
                    object,
                    &["spec", "strategy", "rollingUpdate", "maxUnavailable"],
                    json!("25%"),
                );
                default(
                    object,
                    &["spec", "strategy", "rollingUpdate", "maxSurge"],
                    json!("25%"),
                );
            }
            default(object, &["spec", "revisionHistoryLimit"], json!(10));
            default(object, &["spec", "progressDeadlineSeconds"], json!(600));
            default_template(object, &["spec", "template"]);
            validate_selector(rt, object, old)
        }
        ("apps", "ReplicaSet") => {
            default(object, &["spec", "replicas"], json!(1));
            default_template(object, &["spec", "template"]);
            validate_selector(rt, object, old)
        }
        ("apps", "StatefulSet") => {
            default(object, &["spec", "replicas"], json!(1));
            default(
                object,
                &["spec", "podManagementPolicy"],
                json!("OrderedReady"),
            );
            default(
                object,
                &["spec", "updateStrategy", "type"],
                json!("RollingUpdate"),
            );
            if util::str_at(object, &["spec", "updateStrategy", "type"]) == Some("RollingUpdate") {
                default(
                    object,
                    &["spec", "updateStrategy", "rollingUpdate", "partition"],
                    json!(0),
                );
            }
            default(object, &["spec", "revisionHistoryLimit"], json!(10));
            default(
                object,
                &["spec", "persistentVolumeClaimRetentionPolicy"],
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            if let Some(claims) = object
                .pointer_mut("/spec/volumeClaimTemplates")
                .and_then(Value::as_array_mut)
            {
                for claim in claims {
                    default(claim, &["apiVersion"], json!("v1"));
                    default(claim, &["kind"], json!("PersistentVolumeClaim"));
                    default(claim, &["spec", "volumeMode"], json!("Filesystem"));
                    default(claim, &["status", "phase"], json!("Pending"));
                }
            }
            default_template(object, &["spec", "template"]);
            validate_selector(rt, object, old)
        }
        ("apps", "DaemonSet") => {
            default(
                object,
                &["spec", "updateStrategy", "type"],
                json!("RollingUpdate"),
            );
            if util::str_at(object, &["spec", "updateStrategy", "type"]) == Some("RollingUpdate") {
                default(
                    object,
                    &["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"],
                    json!(1),
                );
                default(
                    object,
                    &["spec", "updateStrategy", "rollingUpdate", "maxSurge"],
                    json!(0),
                );
            }
            default(object, &["spec", "revisionHistoryLimit"], json!(10));
            default_template(object, &["spec", "template"]);
            validate_selector(rt, object, old)
        }
        ("batch", "CronJob") => {
            default(object, &["spec", "concurrencyPolicy"], json!("Allow"));
            default(object, &["spec", "suspend"], json!(false));
            default(object, &["spec", "successfulJobsHistoryLimit"], json!(3));
            default(object, &["spec", "failedJobsHistoryLimit"], json!(1));
            default_template(object, &["spec", "jobTemplate", "spec", "template"]);
            validate_cron_job(rt, object)
        }
        _ => Ok(()),
    }
}

/// Sets `path` to `value` unless something (other than null) is there, creating the
/// objects on the way.
fn default(object: &mut Value, path: &[&str], value: Value) {
    if util::at(object, path).is_some_and(|v| !v.is_null()) {
        return;
    }
    set(object, path, value);
}

/// Sets `path` to `value`, creating the objects on the way (a non-object on the way is
/// left alone).
fn set(object: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = object;
    for field in parents {
        if !current.get(*field).is_some_and(Value::is_object) {
            if !current.is_object() {
                return;
            }
            current[*field] = json!({});
        }
        current = &mut current[*field];
    }
    if current.is_object() {
        current[*last] = value;
    }
}

/// A pod's own defaults and those its admission plugins add (service account,
/// tolerations for unready nodes, priority).
fn default_pod(pod: &mut Value) {
    let Some(spec) = pod.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    default_pod_spec(spec);
    default(spec, &["enableServiceLinks"], json!(true));
    default(spec, &["serviceAccountName"], json!("default"));
    if let Some(account) = spec.get("serviceAccountName").cloned() {
        default(spec, &["serviceAccount"], account);
    }
    default(spec, &["priority"], json!(0));
    default(spec, &["preemptionPolicy"], json!("PreemptLowerPriority"));
    let tolerations = spec
        .as_object_mut()
        .map(|s| s.entry("tolerations").or_insert_with(|| json!([])));
    if let Some(list) = tolerations.and_then(Value::as_array_mut) {
        for key in [
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        ] {
            let present = list.iter().any(|t| {
                t.get("key").and_then(Value::as_str) == Some(key)
                    && t.get("effect").and_then(Value::as_str) == Some("NoExecute")
            });
            if !present {
                list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
            }
        }
    }
}

/// The defaults of a pod template at `path`.
fn default_template(object: &mut Value, path: &[&str]) {
    let mut spec_path = path.to_vec();
    spec_path.push("spec");
    let pointer: String = spec_path.iter().map(|p| format!("/{p}")).collect();
    if let Some(spec) = object.pointer_mut(&pointer).filter(|s| s.is_object()) {
        default_pod_spec(spec);
    }
}

/// `SetDefaults_PodSpec` and its containers', probes' and volumes' defaults.
fn default_pod_spec(spec: &mut Value) {
    default(spec, &["dnsPolicy"], json!("ClusterFirst"));
    default(spec, &["restartPolicy"], json!("Always"));
    default(spec, &["terminationGracePeriodSeconds"], json!(30));
    default(spec, &["securityContext"], json!({}));
    default(spec, &["schedulerName"], json!("default-scheduler"));
    for field in ["containers", "initContainers"] {
        if let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut) {
            for container in containers {
                default_container(container);
            }
        }
    }
    if let Some(volumes) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        for volume in volumes {
            for source in ["configMap", "secret", "downwardAPI", "projected"] {
                if volume.get(source).is_some_and(Value::is_object) {
                    default(volume, &[source, "defaultMode"], json!(420));
                }
            }
        }
    }
}

fn default_container(container: &mut Value) {
    default(
        container,
        &["terminationMessagePath"],
        json!("/dev/termination-log"),
    );
    default(container, &["terminationMessagePolicy"], json!("File"));
    default(container, &["resources"], json!({}));
    let image = util::str_at(container, &["image"]).unwrap_or_default();
    let last = image.rsplit('/').next().unwrap_or_default();
    let pull = if image.contains('@') || (last.contains(':') && !last.ends_with(":latest")) {
        "IfNotPresent"
    } else {
        "Always"
    };
    default(container, &["imagePullPolicy"], json!(pull));
    if let Some(ports) = container.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports {
            default(port, &["protocol"], json!("TCP"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = container.get_mut(probe).filter(|p| p.is_object()) {
            default(probe, &["timeoutSeconds"], json!(1));
            default(probe, &["periodSeconds"], json!(10));
            default(probe, &["successThreshold"], json!(1));
            default(probe, &["failureThreshold"], json!(3));
            if probe.get("httpGet").is_some_and(Value::is_object) {
                default(probe, &["httpGet", "scheme"], json!("HTTP"));
            }
        }
    }
}

/// `SetDefaults_Job`.
fn default_job(job: &mut Value) {
    let completions = util::at(job, &["spec", "completions"]).filter(|v| !v.is_null());
    let parallelism = util::at(job, &["spec", "parallelism"]).filter(|v| !v.is_null());
    if completions.is_none() && parallelism.is_none() {
        set(job, &["spec", "completions"], json!(1));
    }
    default(job, &["spec", "parallelism"], json!(1));
    if util::at(job, &["spec", "backoffLimitPerIndex"]).is_none_or(Value::is_null) {
        default(job, &["spec", "backoffLimit"], json!(6));
    }
    default(job, &["spec", "completionMode"], json!("NonIndexed"));
    default(job, &["spec", "suspend"], json!(false));
    let replacement = if util::at(job, &["spec", "podFailurePolicy"]).is_some_and(|v| !v.is_null())
    {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    default(job, &["spec", "podReplacementPolicy"], json!(replacement));
    default_template(job, &["spec", "template"]);
    // A Job without labels takes its template's.
    let template_labels = util::at(job, &["spec", "template", "metadata", "labels"])
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    if let Some(labels) = template_labels
        && util::at(job, &["metadata", "labels"])
            .is_none_or(|l| l.as_object().is_none_or(serde_json::Map::is_empty))
    {
        set(job, &["metadata", "labels"], labels);
    }
}

/// Labels a new Job's pod template with the Job's uid and name and selects on the uid,
/// unless the Job asks for a manual selector.
fn generate_job_selector(job: &mut Value) {
    if util::at(job, &["spec", "manualSelector"]).and_then(Value::as_bool) == Some(true) {
        return;
    }
    let uid = util::uid(job).to_owned();
    let name = util::name(job).to_owned();
    for (key, value) in [
        ("batch.kubernetes.io/controller-uid", &uid),
        ("batch.kubernetes.io/job-name", &name),
        ("controller-uid", &uid),
        ("job-name", &name),
    ] {
        set(
            job,
            &["spec", "template", "metadata", "labels", key],
            Value::from(value.as_str()),
        );
    }
    if util::at(job, &["spec", "selector"]).is_none_or(Value::is_null) {
        set(
            job,
            &["spec", "selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
    }
}

/// Go's `%#v` of a string map, as kube-apiserver prints label maps in messages.
fn go_map(map: Option<&Value>) -> String {
    let entries: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k:?}:{:?}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if entries.is_empty() {
        "map[string]string(nil)".to_owned()
    } else {
        format!("map[string]string{{{}}}", entries.join(", "))
    }
}

/// Go's `%#v` of a label selector.
fn go_selector(selector: Option<&Value>) -> String {
    let labels = go_map(selector.and_then(|s| s.get("matchLabels")));
    let expressions = if selector
        .and_then(|s| s.get("matchExpressions"))
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty())
    {
        "[]v1.LabelSelectorRequirement{...}"
    } else {
        "[]v1.LabelSelectorRequirement(nil)"
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{expressions}}}")
}

fn invalid(rt: &ResourceType, object: &Value, causes: Vec<Cause>) -> Result<(), ApiError> {
    if causes.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(
        &rt.kind,
        &rt.group,
        util::name(object),
        causes,
    ))
}

/// The checks of a workload's selector, replicas and template labels.
fn selector_causes(rt: &ResourceType, object: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut causes = Vec::new();
    if let Some(replicas) = util::int_at(object, &["spec", "replicas"])
        && replicas < 0
    {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.replicas",
            &format!("Invalid value: {replicas}: must be greater than or equal to 0"),
        ));
    }
    let selector = util::at(object, &["spec", "selector"]).filter(|s| !s.is_null());
    let template_labels = util::at(object, &["spec", "template", "metadata", "labels"]);
    match selector {
        None => causes.push(Cause::new(
            "FieldValueRequired",
            "spec.selector",
            "Required value",
        )),
        Some(selector) if util::selector_is_empty(Some(selector)) => causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.selector",
            &format!(
                "Invalid value: {}: empty selector is invalid for {}",
                go_selector(Some(selector)),
                rt.singular
            ),
        )),
        Some(selector) => {
            let labels = template_labels
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if !util::selector_matches(Some(selector), &labels) {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    "spec.template.metadata.labels",
                    &format!(
                        "Invalid value: {}: `selector` does not match template `labels`",
                        go_map(template_labels)
                    ),
                ));
            }
        }
    }
    if let Some(old) = old
        && util::at(old, &["spec", "selector"]) != util::at(object, &["spec", "selector"])
    {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.selector",
            &format!(
                "Invalid value: {}: field is immutable",
                go_selector(util::at(object, &["spec", "selector"]))
            ),
        ));
    }
    causes
}

fn validate_selector(
    rt: &ResourceType,
    object: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    invalid(rt, object, selector_causes(rt, object, old))
}

fn validate_job(rt: &ResourceType, job: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let mut causes: Vec<Cause> = selector_causes(rt, job, old)
        .into_iter()
        .filter(|c| c.field != "spec.replicas")
        .collect();
    let policy =
        util::str_at(job, &["spec", "template", "spec", "restartPolicy"]).unwrap_or_default();
    if policy != "OnFailure" && policy != "Never" {
        causes.push(Cause::new(
            "FieldValueNotSupported",
            "spec.template.spec.restartPolicy",
            &format!("Unsupported value: {policy:?}: supported values: \"OnFailure\", \"Never\""),
        ));
    }
    for field in ["parallelism", "completions", "backoffLimit"] {
        if let Some(value) = util::int_at(job, &["spec", field])
            && value < 0
        {
            causes.push(Cause::new(
                "FieldValueInvalid",
                &format!("spec.{field}"),
                &format!("Invalid value: {value}: must be greater than or equal to 0"),
            ));
        }
    }
    invalid(rt, job, causes)
}

fn validate_cron_job(rt: &ResourceType, cron_job: &Value) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    let schedule = util::str_at(cron_job, &["spec", "schedule"]).unwrap_or_default();
    if schedule.is_empty() {
        causes.push(Cause::new(
            "FieldValueRequired",
            "spec.schedule",
            "Required value",
        ));
    } else if let Err(error) = cron::Schedule::parse(schedule) {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.schedule",
            &format!("Invalid value: {schedule:?}: {error}"),
        ));
    }
    if let Some(zone) = util::str_at(cron_job, &["spec", "timeZone"])
        && jiff::tz::TimeZone::get(zone).is_err()
    {
        causes.push(Cause::new(
            "FieldValueInvalid",
            "spec.timeZone",
            &format!("Invalid value: {zone:?}: unknown time zone {zone}"),
        ));
    }
    let policy = util::str_at(cron_job, &["spec", "concurrencyPolicy"]).unwrap_or_default();
    if !["Allow", "Forbid", "Replace"].contains(&policy) {
        causes.push(Cause::new(
            "FieldValueNotSupported",
            "spec.concurrencyPolicy",
            &format!("Unsupported value: {policy:?}: supported values: \"Allow\", \"Forbid\", \"Replace\""),
        ));
    }
    let restart = util::str_at(
        cron_job,
        &[
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "spec",
            "restartPolicy",
        ],
    )
    .unwrap_or_default();
    if restart != "OnFailure" && restart != "Never" {
        causes.push(Cause::new(
            "FieldValueNotSupported",
            "spec.jobTemplate.spec.template.spec.restartPolicy",
            &format!("Unsupported value: {restart:?}: supported values: \"OnFailure\", \"Never\""),
        ));
    }
    invalid(rt, cron_job, causes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "uid": "u1"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}},
            },
        })
    }

    fn rt(kind: &str) -> ResourceType {
        crate::builtin::all()
            .into_iter()
            .find(|r| r.kind == kind && r.storage_version)
            .unwrap()
    }

    #[test]
    fn deployments_get_kubernetes_defaults() {
        let mut object = deployment();
        prepare_workload(&rt("Deployment"), &mut object, None).unwrap();
        let spec = &object["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["schedulerName"], "default-scheduler");
        let container = &pod["containers"][0];
        assert_eq!(container["imagePullPolicy"], "IfNotPresent");
        assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(container["ports"][0]["protocol"], "TCP");
        // Defaulting twice changes nothing.
        let again = object.clone();
        prepare_workload(&rt("Deployment"), &mut object, Some(&again)).unwrap();
        assert_eq!(object, again);
    }

    #[test]
    fn latest_and_untagged_images_are_always_pulled() {
        for (image, policy) in [
            ("nginx", "Always"),
            ("nginx:latest", "Always"),
            ("nginx:1", "IfNotPresent"),
            ("localhost:5000/app", "Always"),
            ("nginx@sha256:ab", "IfNotPresent"),
        ] {
            let mut container = json!({"image": image});
            default_container(&mut container);
            assert_eq!(container["imagePullPolicy"], policy, "{image}");
        }
    }

    #[test]
    fn a_selector_that_does_not_match_the_template_is_refused() {
        let mut object = deployment();
        object["spec"]["selector"] = json!({"matchLabels": {"app": "other"}});
        let error = prepare_workload(&rt("Deployment"), &mut object, None).unwrap_err();
        assert_eq!(error.code, 422);
        assert_eq!(
            error.message,
            "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"
        );
        let mut missing = deployment();
        missing["spec"].as_object_mut().unwrap().remove("selector");
        let error = prepare_workload(&rt("Deployment"), &mut missing, None).unwrap_err();
        assert!(
            error.message.contains("spec.selector: Required value"),
            "{}",
            error.message
        );
    }

    #[test]
    fn selectors_are_immutable() {
        let old = deployment();
        let mut new = deployment();
        new["spec"]["selector"]["matchLabels"]["tier"] = json!("front");
        new["spec"]["template"]["metadata"]["labels"]["tier"] = json!("front");
        let error = prepare_workload(&rt("Deployment"), &mut new, Some(&old)).unwrap_err();
        assert!(
            error.message.contains("spec.selector: Invalid value"),
            "{}",
            error.message
        );
        assert!(
            error.message.ends_with("field is immutable"),
            "{}",
            error.message
        );
    }

    #[test]
    fn jobs_select_their_pods_by_uid_and_refuse_restart_policy_always() {
        let mut job = json!({
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "uid": "u2"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "perl"}]}}},
        });
        default_job(&mut job);
        generate_job_selector(&mut job);
        validate_job(&rt("Job"), &job, None).unwrap();
        assert_eq!(
            job["spec"]["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u2"}})
        );
        assert_eq!(
            job["spec"]["template"]["metadata"]["labels"]["job-name"],
            "pi"
        );
        assert_eq!(job["spec"]["completions"], 1);
        assert_eq!(job["spec"]["parallelism"], 1);
        assert_eq!(job["spec"]["backoffLimit"], 6);
        let mut always = job.clone();
        always["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        let error = validate_job(&rt("Job"), &always, None).unwrap_err();
        assert!(
            error.message.contains("spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""),
            "{}",
            error.message
        );
    }

    #[test]
    fn cron_jobs_with_bad_schedules_or_zones_are_refused() {
        let mut cron_job = json!({
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"schedule": "every tuesday", "timeZone": "Mars/Olympus",
                     "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}},
        });
        let error = prepare_workload(&rt("CronJob"), &mut cron_job, None).unwrap_err();
        assert!(
            error
                .message
                .contains("spec.schedule: Invalid value: \"every tuesday\""),
            "{}",
            error.message
        );
        assert!(
            error.message.contains(
                "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus"
            ),
            "{}",
            error.message
        );
        cron_job["spec"]["schedule"] = json!("*/5 * * * *");
        cron_job["spec"]["timeZone"] = json!("Europe/Berlin");
        prepare_workload(&rt("CronJob"), &mut cron_job, None).unwrap();
        assert_eq!(cron_job["spec"]["successfulJobsHistoryLimit"], 3);
    }
}
