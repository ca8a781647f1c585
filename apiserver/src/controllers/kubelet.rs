//! A simulated node: one Node object (`sluice-node`), a scheduler that binds pods when
//! they are created, and a kubelet that gives bound pods believable status (phase,
//! conditions, container statuses, IPs, start time) without running anything.
//!
//! Test hooks, read from the pod (so from a workload's pod template):
//! - an image whose name contains `fail`: long-running pods run but never become ready;
//!   pods that run to completion (`restartPolicy` `Never` or `OnFailure`) fail with exit
//!   code 1;
//! - the annotation `sluice.dev/ready-after: <Go duration>` (`5s`, `500ms`): readiness
//!   (or, for pods that run to completion, success) comes that long after the pod started.
//!
//! Pods that run to completion succeed at once otherwise. Nothing restarts: restart counts
//! stay 0.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Action, ControllerError, Ctx, managers, util};
use crate::backend::Backend;
use crate::errors::ApiError;
use crate::object;

/// The name of the simulated node.
pub const NODE_NAME: &str = "sluice-node";
/// The simulated node's address (pods' `hostIP`).
pub const HOST_IP: &str = "172.18.0.2";
/// The annotation that delays readiness.
pub const READY_AFTER: &str = "sluice.dev/ready-after";

/// The pod network pods get addresses from: 10.244.0.0/16.
const POD_NETWORK: u32 = u32::from_be_bytes([10, 244, 0, 0]);
const POD_NETWORK_SIZE: u32 = 1 << 16;

/// Pod IPs in use, so that every running pod has its own.
#[derive(Debug, Default)]
pub struct PodIps {
    used: HashSet<Ipv4Addr>,
    cursor: u32,
}

#[derive(Debug, Default, Deserialize)]
struct PodIpView {
    #[serde(default)]
    status: PodIpStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PodIpStatus {
    #[serde(rename = "podIP")]
    pod_ip: Option<String>,
}

impl PodIps {
    fn ip_of(pod: &[u8]) -> Option<Ipv4Addr> {
        let view: PodIpView = serde_json::from_slice(pod).ok()?;
        view.status.pod_ip?.parse().ok()
    }

    /// Marks the IP of a stored pod as used.
    pub fn observe(&mut self, pod: &[u8]) {
        if let Some(ip) = Self::ip_of(pod) {
            self.used.insert(ip);
        }
    }

    /// Frees the IP of a deleted pod.
    pub fn release(&mut self, pod: &[u8]) {
        if let Some(ip) = Self::ip_of(pod) {
            self.used.remove(&ip);
        }
    }

    /// A free address of the pod network.
    pub fn allocate(&mut self) -> Ipv4Addr {
        for _ in 0..POD_NETWORK_SIZE {
            self.cursor = (self.cursor + 1) % POD_NETWORK_SIZE;
            // Skip .0 and .1 of every /24 (network and gateway), like a node's pod CIDR.
            if self.cursor % 256 < 2 || self.cursor % 256 == 255 {
                continue;
            }
            let ip = Ipv4Addr::from(POD_NETWORK + self.cursor);
            if self.used.insert(ip) {
                return ip;
            }
        }
        Ipv4Addr::from(POD_NETWORK + 2)
    }
}

/// `amd64`/`arm64` as Kubernetes names this machine's architecture.
fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The simulated Node.
fn node_object() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "labels": {
                "beta.kubernetes.io/arch": architecture(),
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": architecture(),
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/os": "linux",
            },
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {
            "podCIDR": "10.244.0.0/16",
            "podCIDRs": ["10.244.0.0/16"],
            "providerID": format!("sluice://{NODE_NAME}"),
        },
    })
}

/// The simulated Node's status: ready, roomy, running this server's Kubernetes version.
fn node_status(now: &str) -> Value {
    let resources = json!({
        "cpu": "8",
        "ephemeral-storage": "100Gi",
        "memory": "32Gi",
        "pods": "110",
    });
    let condition = |type_: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": type_, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": now,
        })
    };
    json!({
        "addresses": [
            {"type": "InternalIP", "address": HOST_IP},
            {"type": "Hostname", "address": NODE_NAME},
        ],
        "allocatable": resources,
        "capacity": resources,
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "architecture": architecture(),
            "bootID": util::fake_uuid("boot"),
            "containerRuntimeVersion": "containerd://2.1.0",
            "kernelVersion": "6.8.0",
            "kubeProxyVersion": "",
            "kubeletVersion": format!("v1.{}.0", crate::discovery::MINOR),
            "machineID": util::fake_hex("machine", 32),
            "operatingSystem": "linux",
            "osImage": "Sluice simulated node",
            "systemUUID": util::fake_uuid("system"),
        },
    })
}

/// Registers the simulated node (once) and reports it ready.
///
/// # Errors
/// When the Node cannot be written.
pub(super) fn ensure_node(backend: &std::sync::Arc<Backend>) -> Result<(), ControllerError> {
    let ctx = Ctx::new(std::sync::Arc::clone(backend));
    let rt = ctx.rt("", "nodes")?;
    let existing = match ctx.get(&rt, None, NODE_NAME) {
        Some(node) => node,
        None => ctx.create(&rt, None, node_object(), managers::KUBELET)?,
    };
    if util::at(&existing, &["status", "conditions"]).is_none() {
        let now = util::format_time(util::now());
        ctx.write_status(&rt, None, NODE_NAME, managers::KUBELET, node_status(&now))?;
    }
    Ok(())
}

/// Binds a pod being created to a node that fits it, as the scheduler would a moment
/// later, and gives it its initial status (`Pending`, QoS class, `PodScheduled`).
///
/// # Errors
/// None today; the signature leaves room for admission errors.
pub fn schedule(backend: &Backend, pod: &mut Value) -> Result<(), ApiError> {
    let now = util::format_time(util::now());
    let mut status = json!({"phase": "Pending", "qosClass": qos_class(pod)});
    let scheduler = util::str_at(pod, &["spec", "schedulerName"]).unwrap_or("default-scheduler");
    let bound = util::str_at(pod, &["spec", "nodeName"]).is_some_and(|n| !n.is_empty());
    if !bound && scheduler == "default-scheduler" {
        let nodes: Vec<Value> = backend
            .store
            .list("core/nodes/", None, None, 0)
            .map(|page| {
                page.items
                    .iter()
                    .filter_map(|(_, e)| serde_json::from_slice(&e.value).ok())
                    .collect()
            })
            .unwrap_or_default();
        match nodes.iter().find(|node| fits(pod, node)) {
            Some(node) => {
                pod["spec"]["nodeName"] = Value::from(util::name(node));
                status["conditions"] = json!([{
                    "type": "PodScheduled", "status": "True", "lastTransitionTime": now,
                }]);
            }
            None => {
                let count = nodes.len();
                status["conditions"] = json!([{
                    "type": "PodScheduled", "status": "False", "lastTransitionTime": now,
                    "reason": "Unschedulable",
                    "message": format!("0/{count} nodes are available: {count} node(s) didn't match Pod's node affinity/selector. preemption: 0/{count} nodes are available: {count} Preemption is not helpful for scheduling."),
                }]);
            }
        }
    }
    pod["status"] = status;
    Ok(())
}

/// Whether `pod` can run on `node`: the node is schedulable and matches the pod's node
/// selector and required node affinity. (Taints are not simulated.)
pub(super) fn fits(pod: &Value, node: &Value) -> bool {
    if util::at(node, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        return false;
    }
    let labels = util::labels(node);
    if let Some(selector) = util::at(pod, &["spec", "nodeSelector"]).and_then(Value::as_object) {
        for (key, value) in selector {
            if labels.get(key) != Some(value) {
                return false;
            }
        }
    }
    let terms = util::at(
        pod,
        &[
            "spec",
            "affinity",
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        ],
    )
    .and_then(Value::as_array);
    let Some(terms) = terms else {
        return true;
    };
    let name = util::name(node);
    terms.iter().any(|term| {
        let requirements = |field: &str| {
            term.get(field)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let expressions = requirements("matchExpressions");
        let fields = requirements("matchFields");
        if expressions.is_empty() && fields.is_empty() {
            return false;
        }
        expressions.iter().all(|r| {
            let key = r.get("key").and_then(Value::as_str).unwrap_or_default();
            requirement_holds(r, labels.get(key).and_then(Value::as_str))
        }) && fields.iter().all(|r| {
            let key = r.get("key").and_then(Value::as_str).unwrap_or_default();
            requirement_holds(r, (key == "metadata.name").then_some(name))
        })
    })
}

/// A node selector requirement (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`)
/// against a value.
fn requirement_holds(requirement: &Value, value: Option<&str>) -> bool {
    let values: Vec<&str> = requirement
        .get("values")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let number = |text: &str| text.parse::<i64>().ok();
    match requirement.get("operator").and_then(Value::as_str) {
        Some("In") => value.is_some_and(|v| values.contains(&v)),
        Some("NotIn") => value.is_none_or(|v| !values.contains(&v)),
        Some("Exists") => value.is_some(),
        Some("DoesNotExist") => value.is_none(),
        Some("Gt") => {
            matches!((value.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a > b)
        }
        Some("Lt") => {
            matches!((value.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a < b)
        }
        _ => false,
    }
}

/// The QoS class of a pod: `Guaranteed` when every container's requests equal its limits
/// for CPU and memory, `BestEffort` when none sets any, `Burstable` otherwise.
fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|field| util::at(pod, &["spec", field]).and_then(Value::as_array))
        .flatten()
        .collect();
    let resources = |c: &Value, kind: &str| -> Map<String, Value> {
        util::at(c, &["resources", kind])
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let any = containers
        .iter()
        .any(|c| !resources(c, "requests").is_empty() || !resources(c, "limits").is_empty());
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let limits = resources(c, "limits");
        let requests = resources(c, "requests");
        ["cpu", "memory"].iter().all(|r| {
            limits.contains_key(*r) && requests.get(*r).is_none_or(|q| Some(q) == limits.get(*r))
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// The kubelet's view of a pod: reports its containers started, ready (or not, or
/// finished) and its addresses.
///
/// # Errors
/// A failed status write.
pub(super) fn reconcile(
    ctx: &mut Ctx,
    namespace: &str,
    name: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("", "pods")?;
    let Some(pod) = ctx.get(&rt, Some(namespace), name) else {
        return Ok(Action::Done);
    };
    let node = util::str_at(&pod, &["spec", "nodeName"]).unwrap_or_default();
    if node.is_empty() || object::is_terminating(&pod) {
        return Ok(Action::Done);
    }
    // Only nodes that exist run pods; a pod bound to a missing node stays pending.
    let nodes = ctx.rt("", "nodes")?;
    if ctx.get(&nodes, None, node).is_none() {
        return Ok(Action::Done);
    }
    let host_network =
        util::at(&pod, &["spec", "hostNetwork"]).and_then(Value::as_bool) == Some(true);
    let pod_ip = match util::str_at(&pod, &["status", "podIP"]) {
        Some(ip) => ip.to_owned(),
        None if host_network => HOST_IP.to_owned(),
        None => ctx.pod_ips.allocate().to_string(),
    };
    let (status, next) = desired_status(&pod, util::now(), &pod_ip, HOST_IP);
    ctx.write_status(&rt, Some(namespace), name, managers::KUBELET, status)?;
    Ok(Action::after(next))
}

/// The status the kubelet reports for `pod` at `now`, and when to look again (a
/// readiness delay running out).
pub fn desired_status(
    pod: &Value,
    now: Timestamp,
    pod_ip: &str,
    host_ip: &str,
) -> (Value, Option<Duration>) {
    let mut status = pod.get("status").cloned().unwrap_or_else(|| json!({}));
    let phase = status
        .get("phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending");
    if phase == "Succeeded" || phase == "Failed" {
        return (status, None);
    }
    let now_text = util::format_time(now);
    let start = util::time_at(&status, &["startTime"]).unwrap_or(now);
    let start_text = util::format_time(start);
    let restart_policy = util::str_at(pod, &["spec", "restartPolicy"]).unwrap_or("Always");
    let runs_to_completion = restart_policy != "Always";
    let containers: Vec<Value> = util::at(pod, &["spec", "containers"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let init_containers: Vec<Value> = util::at(pod, &["spec", "initContainers"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let failing = containers.iter().chain(&init_containers).any(|c| {
        c.get("image")
            .and_then(Value::as_str)
            .is_some_and(|image| image.contains("fail"))
    });
    let delay = util::str_at(pod, &["metadata", "annotations", READY_AFTER])
        .and_then(util::parse_duration)
        .unwrap_or(Duration::ZERO);
    let due = util::plus(start, delay);
    let due_passed = now >= due;
    let finished = runs_to_completion && (failing || due_passed);
    let ready = !failing && due_passed;
    let next = (!due_passed && !failing).then(|| util::until(due, now));

    let uid = util::uid(pod).to_owned();
    let previous = |field: &str, container: &str| -> Option<Value> {
        status
            .get(field)
            .and_then(Value::as_array)
            .and_then(|list| {
                list.iter()
                    .find(|c| c.get("name").and_then(Value::as_str) == Some(container))
            })
            .cloned()
    };
    let container_status = |container: &Value, field: &str, init: bool| -> Value {
        let name = container
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let image = normalize_image(
            container
                .get("image")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        let before = previous(field, name);
        let started_at = before
            .as_ref()
            .and_then(|b| {
                util::at(b, &["state", "running", "startedAt"])
                    .or_else(|| util::at(b, &["state", "terminated", "startedAt"]))
            })
            .and_then(Value::as_str)
            .unwrap_or(&start_text)
            .to_owned();
        let finished_at = before
            .as_ref()
            .and_then(|b| util::str_at(b, &["state", "terminated", "finishedAt"]))
            .unwrap_or(&now_text)
            .to_owned();
        let (state, ready, started) = if init {
            (
                json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started_at, "finishedAt": finished_at}}),
                true,
                false,
            )
        } else if finished {
            let (code, reason) = if failing {
                (1, "Error")
            } else {
                (0, "Completed")
            };
            (
                json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": started_at, "finishedAt": finished_at}}),
                false,
                false,
            )
        } else {
            (
                json!({"running": {"startedAt": started_at}}),
                runs_to_completion || ready,
                true,
            )
        };
        json!({
            "name": name,
            "image": image,
            "imageID": image_id(&image),
            "containerID": format!("containerd://{}", util::fake_hex(&format!("{uid}/{name}"), 64)),
            "ready": ready,
            "started": started,
            "restartCount": 0,
            "state": state,
            "lastState": {},
        })
    };
    let statuses: Vec<Value> = containers
        .iter()
        .map(|c| container_status(c, "containerStatuses", false))
        .collect();
    if !init_containers.is_empty() {
        let init: Vec<Value> = init_containers
            .iter()
            .map(|c| container_status(c, "initContainerStatuses", true))
            .collect();
        status["initContainerStatuses"] = Value::Array(init);
    }
    let unready: Vec<&str> = statuses
        .iter()
        .filter(|s| s.get("ready") != Some(&Value::Bool(true)))
        .filter_map(|s| s.get("name").and_then(Value::as_str))
        .collect();
    status["containerStatuses"] = Value::Array(statuses.clone());

    let new_phase = if finished {
        if failing { "Failed" } else { "Succeeded" }
    } else {
        "Running"
    };
    let generation = util::int_at(pod, &["metadata", "generation"]);
    let mut conditions = util::conditions(&status_holder(&status));
    let completed_reason = if failing { "PodFailed" } else { "PodCompleted" };
    let (ready_status, ready_reason, ready_message) = if finished {
        ("False", Some(completed_reason), None)
    } else if unready.is_empty() {
        ("True", None, None)
    } else {
        (
            "False",
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    let wanted: [(&str, &str, Option<&str>, Option<String>); 4] = [
        (
            "PodReadyToStartContainers",
            if finished { "False" } else { "True" },
            None,
            None,
        ),
        (
            "Initialized",
            "True",
            finished.then_some(completed_reason),
            None,
        ),
        ("Ready", ready_status, ready_reason, ready_message.clone()),
        ("ContainersReady", ready_status, ready_reason, ready_message),
    ];
    let scheduled = util::condition(&conditions, "PodScheduled")
        .cloned()
        .unwrap_or_else(
            || json!({"type": "PodScheduled", "status": "True", "lastTransitionTime": start_text}),
        );
    let mut ordered = Vec::new();
    for (type_, condition_status, reason, message) in wanted {
        let current = util::condition(&conditions, type_);
        let transition = match current {
            Some(c) if c.get("status").and_then(Value::as_str) == Some(condition_status) => c
                .get("lastTransitionTime")
                .cloned()
                .unwrap_or_else(|| Value::from(now_text.as_str())),
            _ => Value::from(now_text.as_str()),
        };
        let mut condition =
            json!({"type": type_, "status": condition_status, "lastTransitionTime": transition});
        if let Some(reason) = reason {
            condition["reason"] = Value::from(reason);
        }
        if let Some(message) = message {
            condition["message"] = Value::from(message);
        }
        if let Some(generation) = generation {
            condition["observedGeneration"] = Value::from(generation);
        }
        ordered.push(condition);
    }
    let mut scheduled = scheduled;
    if let Some(generation) = generation {
        scheduled["observedGeneration"] = Value::from(generation);
    }
    ordered.push(scheduled);
    conditions.clear();
    conditions.extend(ordered);

    status["phase"] = Value::from(new_phase);
    status["conditions"] = Value::Array(conditions);
    status["hostIP"] = Value::from(host_ip);
    status["hostIPs"] = json!([{"ip": host_ip}]);
    status["podIP"] = Value::from(pod_ip);
    status["podIPs"] = json!([{"ip": pod_ip}]);
    status["startTime"] = Value::from(start_text);
    if let Some(generation) = generation {
        status["observedGeneration"] = Value::from(generation);
    }
    if status.get("qosClass").is_none() {
        status["qosClass"] = Value::from(qos_class(pod));
    }
    (status, if finished { None } else { next })
}

/// Wraps a status so that [`util::conditions`] can read it.
fn status_holder(status: &Value) -> Value {
    json!({"status": status})
}

/// The image reference as the container runtime reports it: registry and tag filled in
/// (`nginx` → `docker.io/library/nginx:latest`).
pub fn normalize_image(image: &str) -> String {
    let first = image.split('/').next().unwrap_or_default();
    let has_registry =
        image.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_registry {
        image.to_owned()
    } else if image.contains('/') {
        format!("docker.io/{image}")
    } else {
        format!("docker.io/library/{image}")
    };
    let last = full.rsplit('/').next().unwrap_or_default();
    if !last.contains(':') && !full.contains('@') {
        full.push_str(":latest");
    }
    full
}

/// A believable image id: the repository with a digest.
fn image_id(image: &str) -> String {
    let repository = match image.rsplit_once('/') {
        Some((prefix, last)) => {
            format!("{prefix}/{}", last.split([':', '@']).next().unwrap_or(last))
        }
        None => image.to_owned(),
    };
    format!("{repository}@sha256:{}", util::fake_hex(image, 64))
}

/// Binds a PersistentVolumeClaim at once: `Bound`, with the requested capacity.
///
/// # Errors
/// A failed status write.
pub(super) fn bind_claim(
    ctx: &mut Ctx,
    namespace: &str,
    name: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("", "persistentvolumeclaims")?;
    let Some(claim) = ctx.get(&rt, Some(namespace), name) else {
        return Ok(Action::Done);
    };
    if object::is_terminating(&claim) {
        return Ok(Action::Done);
    }
    let mut status = claim.get("status").cloned().unwrap_or_else(|| json!({}));
    status["phase"] = Value::from("Bound");
    if let Some(modes) = util::at(&claim, &["spec", "accessModes"]) {
        status["accessModes"] = modes.clone();
    }
    if let Some(storage) = util::at(&claim, &["spec", "resources", "requests", "storage"]) {
        status["capacity"] = json!({"storage": storage});
    }
    ctx.write_status(
        &rt,
        Some(namespace),
        name,
        managers::CONTROLLER_MANAGER,
        status,
    )?;
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(image: &str, restart: &str, annotations: Value) -> Value {
        json!({
            "metadata": {"name": "p", "uid": "u", "generation": 1, "annotations": annotations},
            "spec": {"restartPolicy": restart, "nodeName": NODE_NAME, "containers": [{"name": "app", "image": image}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]},
        })
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
        util::condition(status["conditions"].as_array().unwrap(), type_).unwrap()
    }

    #[test]
    fn a_pod_runs_and_is_ready_at_once() {
        let (status, next) = desired_status(
            &pod("nginx", "Always", json!({})),
            at("2026-01-01T00:00:01Z"),
            "10.244.0.2",
            HOST_IP,
        );
        assert_eq!(status["phase"], "Running");
        assert_eq!(condition(&status, "Ready")["status"], "True");
        assert_eq!(condition(&status, "ContainersReady")["status"], "True");
        assert_eq!(status["containerStatuses"][0]["ready"], true);
        assert_eq!(status["containerStatuses"][0]["started"], true);
        assert_eq!(
            status["containerStatuses"][0]["image"],
            "docker.io/library/nginx:latest"
        );
        assert_eq!(
            status["containerStatuses"][0]["state"]["running"]["startedAt"],
            "2026-01-01T00:00:01Z"
        );
        assert_eq!(status["podIP"], "10.244.0.2");
        assert_eq!(status["hostIP"], HOST_IP);
        assert_eq!(status["qosClass"], "BestEffort");
        let types: Vec<&str> = status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled"
            ]
        );
        assert_eq!(next, None);
    }

    #[test]
    fn an_image_containing_fail_never_becomes_ready() {
        let (status, next) = desired_status(
            &pod("nginx:fail", "Always", json!({})),
            at("2026-01-01T00:00:01Z"),
            "10.244.0.2",
            HOST_IP,
        );
        assert_eq!(status["phase"], "Running");
        let ready = condition(&status, "Ready");
        assert_eq!(ready["status"], "False");
        assert_eq!(ready["reason"], "ContainersNotReady");
        assert_eq!(ready["message"], "containers with unready status: [app]");
        assert_eq!(next, None);
    }

    #[test]
    fn readiness_waits_for_the_ready_after_annotation() {
        let template = pod("nginx", "Always", json!({READY_AFTER: "5s"}));
        let (status, next) =
            desired_status(&template, at("2026-01-01T00:00:00Z"), "10.244.0.2", HOST_IP);
        assert_eq!(condition(&status, "Ready")["status"], "False");
        assert_eq!(next, Some(Duration::from_secs(5)));
        let mut later = template.clone();
        later["status"] = status;
        let (status, next) =
            desired_status(&later, at("2026-01-01T00:00:05Z"), "10.244.0.2", HOST_IP);
        assert_eq!(condition(&status, "Ready")["status"], "True");
        assert_eq!(
            condition(&status, "Ready")["lastTransitionTime"],
            "2026-01-01T00:00:05Z"
        );
        assert_eq!(
            condition(&status, "Initialized")["lastTransitionTime"],
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(next, None);
    }

    #[test]
    fn pods_that_run_to_completion_succeed_or_fail() {
        let (status, _) = desired_status(
            &pod("busybox", "Never", json!({})),
            at("2026-01-01T00:00:00Z"),
            "10.244.0.2",
            HOST_IP,
        );
        assert_eq!(status["phase"], "Succeeded");
        assert_eq!(
            status["containerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        assert_eq!(condition(&status, "Ready")["reason"], "PodCompleted");
        let (status, _) = desired_status(
            &pod("busybox-fail", "OnFailure", json!({})),
            at("2026-01-01T00:00:00Z"),
            "10.244.0.2",
            HOST_IP,
        );
        assert_eq!(status["phase"], "Failed");
        assert_eq!(
            status["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            1
        );
        let finished = json!({"status": status.clone(), "spec": {"restartPolicy": "Never"}});
        assert_eq!(
            desired_status(&finished, at("2026-01-02T00:00:00Z"), "x", "y").0,
            status
        );
    }

    #[test]
    fn images_are_reported_with_registry_and_tag() {
        assert_eq!(normalize_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(
            normalize_image("nginx:1.27"),
            "docker.io/library/nginx:1.27"
        );
        assert_eq!(
            normalize_image("fluxcd/flagger"),
            "docker.io/fluxcd/flagger:latest"
        );
        assert_eq!(
            normalize_image("ghcr.io/fluxcd/podinfo:6.7.0"),
            "ghcr.io/fluxcd/podinfo:6.7.0"
        );
        assert_eq!(
            normalize_image("localhost:5000/x"),
            "localhost:5000/x:latest"
        );
        assert!(
            image_id("docker.io/library/nginx:1.27").starts_with("docker.io/library/nginx@sha256:")
        );
    }

    #[test]
    fn pods_fit_nodes_by_selector_and_affinity() {
        let node =
            json!({"metadata": {"name": NODE_NAME, "labels": {"kubernetes.io/os": "linux"}}});
        let plain = json!({"spec": {}});
        let selected = json!({"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}}});
        let elsewhere = json!({"spec": {"nodeSelector": {"kubernetes.io/os": "windows"}}});
        let pinned = json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [NODE_NAME]}]}]}}}}});
        let pinned_elsewhere = json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["other"]}]}]}}}}});
        assert!(fits(&plain, &node));
        assert!(fits(&selected, &node));
        assert!(!fits(&elsewhere, &node));
        assert!(fits(&pinned, &node));
        assert!(!fits(&pinned_elsewhere, &node));
    }

    #[test]
    fn qos_classes_follow_requests_and_limits() {
        let with = |resources: Value| json!({"spec": {"containers": [{"name": "a", "resources": resources}]}});
        assert_eq!(qos_class(&with(json!({}))), "BestEffort");
        assert_eq!(
            qos_class(&with(json!({"requests": {"cpu": "1"}}))),
            "Burstable"
        );
        assert_eq!(
            qos_class(&with(json!({"limits": {"cpu": "1", "memory": "1Gi"}}))),
            "Guaranteed"
        );
    }

    #[test]
    fn pod_ips_are_unique_and_freed() {
        let mut ips = PodIps::default();
        let a = ips.allocate();
        let b = ips.allocate();
        assert_ne!(a, b);
        assert_eq!(a, Ipv4Addr::new(10, 244, 0, 2));
        ips.release(format!(r#"{{"status":{{"podIP":"{a}"}}}}"#).as_bytes());
        assert!(!ips.used.contains(&a));
    }
}
