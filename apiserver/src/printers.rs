//! The server-side printers of the built-in kinds: the columns and cells kube-apiserver
//! puts in the `Table`s `kubectl get` prints (`NAME READY STATUS RESTARTS AGE` for pods,
//! `NAME READY UP-TO-DATE AVAILABLE AGE` for deployments, ...).
//!
//! Written after the printers of kube-apiserver (`pkg/printers/internalversion`), on the
//! stored JSON instead of typed objects. Like kube-apiserver, the server always produces the
//! wide cells; columns with priority 1 are the ones kubectl shows only with `-o wide`.
//! Kinds without a printer get the default columns, `Name` and `Created At`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use jiff::Timestamp;
use k8s_openapi::api as k8s;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::SchemaSettings;
use serde_json::{Value, json};

/// One column of a `Table`, as in its `columnDefinitions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDefinition {
    /// Header, e.g. `Ready` (kubectl prints it upper-cased).
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: String,
    /// `name` for the name column, else usually empty.
    pub format: String,
    /// What the column shows.
    pub description: String,
    /// 0 = shown by default, 1 = only with `-o wide`.
    pub priority: i64,
}

impl ColumnDefinition {
    /// The column as JSON, as in a `Table`'s `columnDefinitions`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// How the rows of one kind are printed.
pub struct Printer {
    /// The columns, the name column first.
    pub columns: Vec<ColumnDefinition>,
    /// The cells of an object's row, one per column, given the current time.
    pub cells: fn(&Value, Timestamp) -> Vec<Value>,
    /// The row's `conditions` (pods that completed are marked `Completed`), if any.
    pub conditions: fn(&Value) -> Option<Value>,
}

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printer")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

/// The printer of a built-in kind, or the default printer (`Name`, `Created At`) for the
/// kinds kube-apiserver prints that way (roles, CRDs, limit ranges, ...).
pub fn for_kind(group: &str, kind: &str) -> &'static Printer {
    static PRINTERS: OnceLock<HashMap<(&'static str, &'static str), Printer>> = OnceLock::new();
    static DEFAULT: OnceLock<Printer> = OnceLock::new();
    let printers = PRINTERS.get_or_init(all_printers);
    printers
        .iter()
        .find(|((g, k), _)| *g == group && *k == kind)
        .map_or_else(|| DEFAULT.get_or_init(default_printer), |(_, p)| p)
}

fn default_printer() -> Printer {
    Printer {
        columns: vec![
            name_column(),
            column(
                "Created At",
                "date",
                0,
                doc::<meta::ObjectMeta>("creationTimestamp"),
            ),
        ],
        cells: |o, _| {
            vec![
                Value::from(name_of(o)),
                text(o, &["metadata", "creationTimestamp"])
                    .parse::<Timestamp>()
                    .map_or(Value::Null, |t| {
                        Value::from(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                    }),
            ]
        },
        conditions: |_| None,
    }
}

/// The description of `field` in the OpenAPI schema of `T` (what kube-apiserver takes from
/// the Go types' `SwaggerDoc`).
fn doc<T: JsonSchema>(field: &str) -> String {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let schema = T::json_schema(&mut generator);
    schema
        .get("properties")
        .and_then(|p| p.get(field))
        .and_then(|f| f.get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn column(
    name: &str,
    type_: &str,
    priority: i64,
    description: impl Into<String>,
) -> ColumnDefinition {
    ColumnDefinition {
        name: name.to_owned(),
        type_: type_.to_owned(),
        format: String::new(),
        description: description.into(),
        priority,
    }
}

/// The `Name` column every printer starts with.
pub fn name_column() -> ColumnDefinition {
    ColumnDefinition {
        format: "name".to_owned(),
        ..column("Name", "string", 0, doc::<meta::ObjectMeta>("name"))
    }
}

fn age_column() -> ColumnDefinition {
    column(
        "Age",
        "string",
        0,
        doc::<meta::ObjectMeta>("creationTimestamp"),
    )
}

const CONTAINERS_DOC: &str = "Names of each container in the template.";
const IMAGES_DOC: &str = "Images referenced by each container in the template.";

fn printer(columns: Vec<ColumnDefinition>, cells: fn(&Value, Timestamp) -> Vec<Value>) -> Printer {
    Printer {
        columns,
        cells,
        conditions: |_| None,
    }
}

#[allow(clippy::too_many_lines)]
fn all_printers() -> HashMap<(&'static str, &'static str), Printer> {
    let mut printers = HashMap::new();
    printers.insert(
        ("", "Pod"),
        Printer {
            columns: vec![
                name_column(),
                column("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
                column("Status", "string", 0, "The aggregate status of the containers in this pod."),
                column("Restarts", "string", 0, "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
                age_column(),
                column("IP", "string", 1, doc::<k8s::core::v1::PodStatus>("podIP")),
                column("Node", "string", 1, doc::<k8s::core::v1::PodSpec>("nodeName")),
                column("Nominated Node", "string", 1, doc::<k8s::core::v1::PodStatus>("nominatedNodeName")),
                column("Readiness Gates", "string", 1, doc::<k8s::core::v1::PodSpec>("readinessGates")),
            ],
            cells: pod_cells,
            conditions: pod_conditions,
        },
    );
    printers.insert(
        ("", "PodTemplate"),
        printer(
            vec![
                name_column(),
                column("Containers", "string", 0, CONTAINERS_DOC),
                column("Images", "string", 0, IMAGES_DOC),
                column(
                    "Pod Labels",
                    "string",
                    0,
                    "The labels for the pod template.",
                ),
            ],
            |o, _| {
                let (names, images) = containers(at(o, &["template", "spec", "containers"]));
                vec![
                    Value::from(name_of(o)),
                    Value::from(names),
                    Value::from(images),
                    Value::from(format_labels(at(o, &["template", "metadata", "labels"]))),
                ]
            },
        ),
    );
    printers.insert(
        ("policy", "PodDisruptionBudget"),
        printer(
            vec![
                name_column(),
                column(
                    "Min Available",
                    "string",
                    0,
                    "The minimum number of pods that must be available.",
                ),
                column(
                    "Max Unavailable",
                    "string",
                    0,
                    "The maximum number of pods that may be unavailable.",
                ),
                column(
                    "Allowed Disruptions",
                    "integer",
                    0,
                    "Calculated number of pods that may be disrupted at this time.",
                ),
                age_column(),
            ],
            |o, now| {
                let int_or_string = |path: &[&str]| match at(o, path) {
                    Value::Null => "N/A".to_owned(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                vec![
                    Value::from(name_of(o)),
                    Value::from(int_or_string(&["spec", "minAvailable"])),
                    Value::from(int_or_string(&["spec", "maxUnavailable"])),
                    Value::from(int(o, &["status", "disruptionsAllowed"])),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("", "ReplicationController"),
        printer(
            vec![
                name_column(),
                column(
                    "Desired",
                    "integer",
                    0,
                    doc::<k8s::core::v1::ReplicationControllerSpec>("replicas"),
                ),
                column(
                    "Current",
                    "integer",
                    0,
                    doc::<k8s::core::v1::ReplicationControllerStatus>("replicas"),
                ),
                column(
                    "Ready",
                    "integer",
                    0,
                    doc::<k8s::core::v1::ReplicationControllerStatus>("readyReplicas"),
                ),
                age_column(),
                column("Containers", "string", 1, CONTAINERS_DOC),
                column("Images", "string", 1, IMAGES_DOC),
                column(
                    "Selector",
                    "string",
                    1,
                    doc::<k8s::core::v1::ReplicationControllerSpec>("selector"),
                ),
            ],
            |o, now| {
                let (names, images) =
                    containers(at(o, &["spec", "template", "spec", "containers"]));
                vec![
                    Value::from(name_of(o)),
                    Value::from(replicas(o)),
                    Value::from(int(o, &["status", "replicas"])),
                    Value::from(int(o, &["status", "readyReplicas"])),
                    age(o, now),
                    Value::from(names),
                    Value::from(images),
                    Value::from(format_labels(at(o, &["spec", "selector"]))),
                ]
            },
        ),
    );
    printers.insert(
        ("apps", "ReplicaSet"),
        printer(
            vec![
                name_column(),
                column(
                    "Desired",
                    "integer",
                    0,
                    doc::<k8s::apps::v1::ReplicaSetSpec>("replicas"),
                ),
                column(
                    "Current",
                    "integer",
                    0,
                    doc::<k8s::apps::v1::ReplicaSetStatus>("replicas"),
                ),
                column(
                    "Ready",
                    "integer",
                    0,
                    doc::<k8s::apps::v1::ReplicaSetStatus>("readyReplicas"),
                ),
                age_column(),
                column("Containers", "string", 1, CONTAINERS_DOC),
                column("Images", "string", 1, IMAGES_DOC),
                column(
                    "Selector",
                    "string",
                    1,
                    doc::<k8s::apps::v1::ReplicaSetSpec>("selector"),
                ),
            ],
            |o, now| {
                let (names, images) =
                    containers(at(o, &["spec", "template", "spec", "containers"]));
                vec![
                    Value::from(name_of(o)),
                    Value::from(replicas(o)),
                    Value::from(int(o, &["status", "replicas"])),
                    Value::from(int(o, &["status", "readyReplicas"])),
                    age(o, now),
                    Value::from(names),
                    Value::from(images),
                    Value::from(format_label_selector(at(o, &["spec", "selector"]))),
                ]
            },
        ),
    );
    printers.insert(
        ("apps", "DaemonSet"),
        printer(
            vec![
                name_column(),
                column(
                    "Desired",
                    "integer",
                    0,
                    doc::<k8s::apps::v1::DaemonSetStatus>("desiredNumberScheduled"),
                ),
                column(
                    "Current",
                    "integer",
                    0,
                    doc::<k8s::apps::v1::DaemonSetStatus>("currentNumberScheduled"),
                ),
                column(
                    "Ready",
                    "integer",
                    0,
                    doc::<k8s::apps::v1::DaemonSetStatus>("numberReady"),
                ),
                column(
                    "Up-to-date",
                    "integer",
                    0,
                    doc::<k8s::apps::v1::DaemonSetStatus>("updatedNumberScheduled"),
                ),
                column(
                    "Available",
                    "integer",
                    0,
                    doc::<k8s::apps::v1::DaemonSetStatus>("numberAvailable"),
                ),
                column(
                    "Node Selector",
                    "string",
                    0,
                    doc::<k8s::core::v1::PodSpec>("nodeSelector"),
                ),
                age_column(),
                column("Containers", "string", 1, CONTAINERS_DOC),
                column("Images", "string", 1, IMAGES_DOC),
                column(
                    "Selector",
                    "string",
                    1,
                    doc::<k8s::apps::v1::DaemonSetSpec>("selector"),
                ),
            ],
            |o, now| {
                let (names, images) =
                    containers(at(o, &["spec", "template", "spec", "containers"]));
                vec![
                    Value::from(name_of(o)),
                    Value::from(int(o, &["status", "desiredNumberScheduled"])),
                    Value::from(int(o, &["status", "currentNumberScheduled"])),
                    Value::from(int(o, &["status", "numberReady"])),
                    Value::from(int(o, &["status", "updatedNumberScheduled"])),
                    Value::from(int(o, &["status", "numberAvailable"])),
                    Value::from(format_labels(at(
                        o,
                        &["spec", "template", "spec", "nodeSelector"],
                    ))),
                    age(o, now),
                    Value::from(names),
                    Value::from(images),
                    Value::from(format_label_selector(at(o, &["spec", "selector"]))),
                ]
            },
        ),
    );
    printers.insert(
        ("batch", "Job"),
        printer(
            vec![
                name_column(),
                column("Status", "string", 0, "Status of the job."),
                column(
                    "Completions",
                    "string",
                    0,
                    doc::<k8s::batch::v1::JobStatus>("succeeded"),
                ),
                column(
                    "Duration",
                    "string",
                    0,
                    "Time required to complete the job.",
                ),
                age_column(),
                column("Containers", "string", 1, CONTAINERS_DOC),
                column("Images", "string", 1, IMAGES_DOC),
                column(
                    "Selector",
                    "string",
                    1,
                    doc::<k8s::batch::v1::JobSpec>("selector"),
                ),
            ],
            job_cells,
        ),
    );
    printers.insert(
        ("batch", "CronJob"),
        printer(
            vec![
                name_column(),
                column(
                    "Schedule",
                    "string",
                    0,
                    doc::<k8s::batch::v1::CronJobSpec>("schedule"),
                ),
                column(
                    "Timezone",
                    "string",
                    0,
                    doc::<k8s::batch::v1::CronJobSpec>("timeZone"),
                ),
                column(
                    "Suspend",
                    "boolean",
                    0,
                    doc::<k8s::batch::v1::CronJobSpec>("suspend"),
                ),
                column(
                    "Active",
                    "integer",
                    0,
                    doc::<k8s::batch::v1::CronJobStatus>("active"),
                ),
                column(
                    "Last Schedule",
                    "string",
                    0,
                    doc::<k8s::batch::v1::CronJobStatus>("lastScheduleTime"),
                ),
                age_column(),
                column("Containers", "string", 1, CONTAINERS_DOC),
                column("Images", "string", 1, IMAGES_DOC),
                column(
                    "Selector",
                    "string",
                    1,
                    doc::<k8s::batch::v1::JobSpec>("selector"),
                ),
            ],
            |o, now| {
                let template = at(o, &["spec", "jobTemplate", "spec"]);
                let (names, images) = containers(at(template, &["template", "spec", "containers"]));
                let last = match text(o, &["status", "lastScheduleTime"]) {
                    "" => "<none>".to_owned(),
                    time => since(time, now),
                };
                let suspend = match at(o, &["spec", "suspend"]) {
                    Value::Bool(true) => "True",
                    Value::Bool(false) => "False",
                    _ => "<unset>",
                };
                vec![
                    Value::from(name_of(o)),
                    Value::from(text(o, &["spec", "schedule"])),
                    Value::from(or_none(text(o, &["spec", "timeZone"]))),
                    Value::from(suspend),
                    Value::from(list(o, &["status", "active"]).len()),
                    Value::from(last),
                    age(o, now),
                    Value::from(names),
                    Value::from(images),
                    Value::from(format_label_selector(at(template, &["selector"]))),
                ]
            },
        ),
    );
    printers.insert(
        ("", "Service"),
        printer(
            vec![
                name_column(),
                column(
                    "Type",
                    "string",
                    0,
                    doc::<k8s::core::v1::ServiceSpec>("type"),
                ),
                column(
                    "Cluster-IP",
                    "string",
                    0,
                    doc::<k8s::core::v1::ServiceSpec>("clusterIP"),
                ),
                column(
                    "External-IP",
                    "string",
                    0,
                    doc::<k8s::core::v1::ServiceSpec>("externalIPs"),
                ),
                column(
                    "Port(s)",
                    "string",
                    0,
                    doc::<k8s::core::v1::ServiceSpec>("ports"),
                ),
                age_column(),
                column(
                    "Selector",
                    "string",
                    1,
                    doc::<k8s::core::v1::ServiceSpec>("selector"),
                ),
            ],
            service_cells,
        ),
    );
    printers.insert(
        ("networking.k8s.io", "Ingress"),
        printer(
            vec![
                name_column(),
                column("Class", "string", 0, "The name of the IngressClass resource that should be used for additional configuration"),
                column("Hosts", "string", 0, "Hosts that incoming requests are matched against before the ingress rule"),
                column("Address", "string", 0, "Address is a list containing ingress points for the load-balancer"),
                column("Ports", "string", 0, "Ports of TLS configurations that open"),
                age_column(),
            ],
            |o, now| {
                let rules = list(o, &["spec", "rules"]);
                let hosts: Vec<&str> = rules
                    .iter()
                    .map(|r| text(r, &["host"]))
                    .filter(|h| !h.is_empty())
                    .take(3)
                    .collect();
                let hosts = if hosts.is_empty() {
                    "*".to_owned()
                } else if rules.len() > 3 {
                    format!("{} + {} more...", hosts.join(","), rules.len() - 3)
                } else {
                    hosts.join(",")
                };
                let ports = if list(o, &["spec", "tls"]).is_empty() {
                    "80"
                } else {
                    "80, 443"
                };
                vec![
                    Value::from(name_of(o)),
                    Value::from(or_none(text(o, &["spec", "ingressClassName"]))),
                    Value::from(hosts),
                    Value::from(load_balancer_addresses(at(o, &["status", "loadBalancer"]))),
                    Value::from(ports),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("networking.k8s.io", "IngressClass"),
        printer(
            vec![
                name_column(),
                column(
                    "Controller",
                    "string",
                    0,
                    "Controller that is responsible for handling this class",
                ),
                column(
                    "Parameters",
                    "string",
                    0,
                    "A reference to a resource with additional parameters",
                ),
                age_column(),
            ],
            |o, now| {
                let parameters = at(o, &["spec", "parameters"]);
                let parameters = if parameters.is_object() {
                    let mut out = text(parameters, &["kind"]).to_owned();
                    if let Some(group) = parameters.get("apiGroup").and_then(Value::as_str) {
                        out = format!("{out}.{group}");
                    }
                    format!("{out}/{}", text(parameters, &["name"]))
                } else {
                    "<none>".to_owned()
                };
                vec![
                    Value::from(name_of(o)),
                    Value::from(text(o, &["spec", "controller"])),
                    Value::from(parameters),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("apps", "StatefulSet"),
        printer(
            vec![
                name_column(),
                column("Ready", "string", 0, "Number of the pod with ready state"),
                age_column(),
                column("Containers", "string", 1, CONTAINERS_DOC),
                column("Images", "string", 1, IMAGES_DOC),
            ],
            |o, now| {
                let (names, images) =
                    containers(at(o, &["spec", "template", "spec", "containers"]));
                vec![
                    Value::from(name_of(o)),
                    Value::from(format!(
                        "{}/{}",
                        int(o, &["status", "readyReplicas"]),
                        replicas(o)
                    )),
                    age(o, now),
                    Value::from(names),
                    Value::from(images),
                ]
            },
        ),
    );
    printers.insert(
        ("", "Endpoints"),
        printer(
            vec![
                name_column(),
                column(
                    "Endpoints",
                    "string",
                    0,
                    doc::<k8s::core::v1::Endpoints>("subsets"),
                ),
                age_column(),
            ],
            |o, now| {
                vec![
                    Value::from(name_of(o)),
                    Value::from(format_endpoints(o)),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("", "Node"),
        printer(
            vec![
                name_column(),
                column("Status", "string", 0, "The status of the node"),
                column("Roles", "string", 0, "The roles of the node"),
                age_column(),
                column(
                    "Version",
                    "string",
                    0,
                    doc::<k8s::core::v1::NodeSystemInfo>("kubeletVersion"),
                ),
                column(
                    "Internal-IP",
                    "string",
                    1,
                    doc::<k8s::core::v1::NodeStatus>("addresses"),
                ),
                column(
                    "External-IP",
                    "string",
                    1,
                    doc::<k8s::core::v1::NodeStatus>("addresses"),
                ),
                column(
                    "OS-Image",
                    "string",
                    1,
                    doc::<k8s::core::v1::NodeSystemInfo>("osImage"),
                ),
                column(
                    "Kernel-Version",
                    "string",
                    1,
                    doc::<k8s::core::v1::NodeSystemInfo>("kernelVersion"),
                ),
                column(
                    "Container-Runtime",
                    "string",
                    1,
                    doc::<k8s::core::v1::NodeSystemInfo>("containerRuntimeVersion"),
                ),
            ],
            node_cells,
        ),
    );
    printers.insert(
        ("", "Event"),
        Printer {
            columns: event_columns(),
            cells: event_cells,
            conditions: |_| None,
        },
    );
    printers.insert(
        ("events.k8s.io", "Event"),
        Printer {
            columns: event_columns(),
            cells: |o, now| event_cells(&events_v1_as_core(o), now),
            conditions: |_| None,
        },
    );
    printers.insert(
        ("", "Namespace"),
        printer(
            vec![
                name_column(),
                column("Status", "string", 0, "The status of the namespace"),
                age_column(),
            ],
            |o, now| {
                vec![
                    Value::from(name_of(o)),
                    Value::from(text(o, &["status", "phase"])),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("", "Secret"),
        printer(
            vec![
                name_column(),
                column("Type", "string", 0, doc::<k8s::core::v1::Secret>("type")),
                column("Data", "string", 0, doc::<k8s::core::v1::Secret>("data")),
                age_column(),
            ],
            |o, now| {
                vec![
                    Value::from(name_of(o)),
                    Value::from(text(o, &["type"])),
                    Value::from(map_len(at(o, &["data"]))),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("", "ServiceAccount"),
        printer(
            vec![
                name_column(),
                column(
                    "Secrets",
                    "string",
                    0,
                    doc::<k8s::core::v1::ServiceAccount>("secrets"),
                ),
                age_column(),
            ],
            |o, now| {
                vec![
                    Value::from(name_of(o)),
                    Value::from(list(o, &["secrets"]).len()),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("", "PersistentVolume"),
        printer(
            vec![
                name_column(),
                column(
                    "Capacity",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeSpec>("capacity"),
                ),
                column(
                    "Access Modes",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeSpec>("accessModes"),
                ),
                column(
                    "Reclaim Policy",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeSpec>("persistentVolumeReclaimPolicy"),
                ),
                column(
                    "Status",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeStatus>("phase"),
                ),
                column(
                    "Claim",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeSpec>("claimRef"),
                ),
                column("StorageClass", "string", 0, "StorageClass of the pv"),
                column(
                    "VolumeAttributesClass",
                    "string",
                    0,
                    "VolumeAttributesClass of the pv",
                ),
                column(
                    "Reason",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeStatus>("reason"),
                ),
                age_column(),
                column(
                    "VolumeMode",
                    "string",
                    1,
                    doc::<k8s::core::v1::PersistentVolumeSpec>("volumeMode"),
                ),
            ],
            |o, now| {
                let claim = at(o, &["spec", "claimRef"]);
                let claim = if claim.is_object() {
                    format!("{}/{}", text(claim, &["namespace"]), text(claim, &["name"]))
                } else {
                    String::new()
                };
                let phase = if terminating(o) {
                    "Terminating"
                } else {
                    text(o, &["status", "phase"])
                };
                let class = match text(
                    o,
                    &[
                        "metadata",
                        "annotations",
                        "volume.beta.kubernetes.io/storage-class",
                    ],
                ) {
                    "" => text(o, &["spec", "storageClassName"]),
                    annotated => annotated,
                };
                vec![
                    Value::from(name_of(o)),
                    Value::from(text(o, &["spec", "capacity", "storage"])),
                    Value::from(access_modes(list(o, &["spec", "accessModes"]))),
                    Value::from(text(o, &["spec", "persistentVolumeReclaimPolicy"])),
                    Value::from(phase),
                    Value::from(claim),
                    Value::from(class),
                    Value::from(or_unset(text(o, &["spec", "volumeAttributesClassName"]))),
                    Value::from(text(o, &["status", "reason"])),
                    age(o, now),
                    Value::from(or_unset(text(o, &["spec", "volumeMode"]))),
                ]
            },
        ),
    );
    printers.insert(
        ("", "PersistentVolumeClaim"),
        printer(
            vec![
                name_column(),
                column(
                    "Status",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeClaimStatus>("phase"),
                ),
                column(
                    "Volume",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeClaimSpec>("volumeName"),
                ),
                column(
                    "Capacity",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeClaimStatus>("capacity"),
                ),
                column(
                    "Access Modes",
                    "string",
                    0,
                    doc::<k8s::core::v1::PersistentVolumeClaimStatus>("accessModes"),
                ),
                column("StorageClass", "string", 0, "StorageClass of the pvc"),
                column(
                    "VolumeAttributesClass",
                    "string",
                    0,
                    "VolumeAttributesClass of the pvc",
                ),
                age_column(),
                column(
                    "VolumeMode",
                    "string",
                    1,
                    doc::<k8s::core::v1::PersistentVolumeClaimSpec>("volumeMode"),
                ),
            ],
            |o, now| {
                let phase = if terminating(o) {
                    "Terminating"
                } else {
                    text(o, &["status", "phase"])
                };
                let volume = text(o, &["spec", "volumeName"]);
                let (capacity, modes) = if volume.is_empty() {
                    (String::new(), String::new())
                } else {
                    (
                        text(o, &["status", "capacity", "storage"]).to_owned(),
                        access_modes(list(o, &["status", "accessModes"])),
                    )
                };
                let class = match text(
                    o,
                    &[
                        "metadata",
                        "annotations",
                        "volume.beta.kubernetes.io/storage-class",
                    ],
                ) {
                    "" => text(o, &["spec", "storageClassName"]),
                    annotated => annotated,
                };
                vec![
                    Value::from(name_of(o)),
                    Value::from(phase),
                    Value::from(volume),
                    Value::from(capacity),
                    Value::from(modes),
                    Value::from(class),
                    Value::from(or_unset(text(o, &["spec", "volumeAttributesClassName"]))),
                    age(o, now),
                    Value::from(or_unset(text(o, &["spec", "volumeMode"]))),
                ]
            },
        ),
    );
    printers.insert(
        ("apps", "Deployment"),
        printer(
            vec![
                name_column(),
                column("Ready", "string", 0, "Number of the pod with ready state"),
                column(
                    "Up-to-date",
                    "string",
                    0,
                    doc::<k8s::apps::v1::DeploymentStatus>("updatedReplicas"),
                ),
                column(
                    "Available",
                    "string",
                    0,
                    doc::<k8s::apps::v1::DeploymentStatus>("availableReplicas"),
                ),
                age_column(),
                column("Containers", "string", 1, CONTAINERS_DOC),
                column("Images", "string", 1, IMAGES_DOC),
                column(
                    "Selector",
                    "string",
                    1,
                    doc::<k8s::apps::v1::DeploymentSpec>("selector"),
                ),
            ],
            |o, now| {
                let (names, images) =
                    containers(at(o, &["spec", "template", "spec", "containers"]));
                let selector = label_selector_string(at(o, &["spec", "selector"]))
                    .unwrap_or_else(|| "<invalid>".to_owned());
                vec![
                    Value::from(name_of(o)),
                    Value::from(format!(
                        "{}/{}",
                        int(o, &["status", "readyReplicas"]),
                        replicas(o)
                    )),
                    Value::from(int(o, &["status", "updatedReplicas"])),
                    Value::from(int(o, &["status", "availableReplicas"])),
                    age(o, now),
                    Value::from(names),
                    Value::from(images),
                    Value::from(selector),
                ]
            },
        ),
    );
    printers.insert(
        ("autoscaling", "HorizontalPodAutoscaler"),
        printer(
            vec![
                name_column(),
                column(
                    "Reference",
                    "string",
                    0,
                    doc::<k8s::autoscaling::v2::HorizontalPodAutoscalerSpec>("scaleTargetRef"),
                ),
                column(
                    "Targets",
                    "string",
                    0,
                    doc::<k8s::autoscaling::v2::HorizontalPodAutoscalerSpec>("metrics"),
                ),
                column(
                    "MinPods",
                    "string",
                    0,
                    doc::<k8s::autoscaling::v2::HorizontalPodAutoscalerSpec>("minReplicas"),
                ),
                column(
                    "MaxPods",
                    "string",
                    0,
                    doc::<k8s::autoscaling::v2::HorizontalPodAutoscalerSpec>("maxReplicas"),
                ),
                column(
                    "Replicas",
                    "string",
                    0,
                    doc::<k8s::autoscaling::v2::HorizontalPodAutoscalerStatus>("currentReplicas"),
                ),
                age_column(),
            ],
            |o, now| {
                let target = at(o, &["spec", "scaleTargetRef"]);
                let min = match at(o, &["spec", "minReplicas"]) {
                    Value::Number(n) => n.to_string(),
                    _ => "<unset>".to_owned(),
                };
                vec![
                    Value::from(name_of(o)),
                    Value::from(format!(
                        "{}/{}",
                        text(target, &["kind"]),
                        text(target, &["name"])
                    )),
                    Value::from(hpa_metrics(
                        list(o, &["spec", "metrics"]),
                        list(o, &["status", "currentMetrics"]),
                    )),
                    Value::from(min),
                    Value::from(int(o, &["spec", "maxReplicas"])),
                    Value::from(int(o, &["status", "currentReplicas"])),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("", "ConfigMap"),
        printer(
            vec![
                name_column(),
                column("Data", "string", 0, doc::<k8s::core::v1::ConfigMap>("data")),
                age_column(),
            ],
            |o, now| {
                vec![
                    Value::from(name_of(o)),
                    Value::from(map_len(at(o, &["data"])) + map_len(at(o, &["binaryData"]))),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("networking.k8s.io", "NetworkPolicy"),
        printer(
            vec![
                name_column(),
                column(
                    "Pod-Selector",
                    "string",
                    0,
                    doc::<k8s::networking::v1::NetworkPolicySpec>("podSelector"),
                ),
                age_column(),
            ],
            |o, now| {
                vec![
                    Value::from(name_of(o)),
                    Value::from(format_label_selector(at(o, &["spec", "podSelector"]))),
                    age(o, now),
                ]
            },
        ),
    );
    for (kind, what) in [
        ("RoleBinding", "roleBinding"),
        ("ClusterRoleBinding", "clusterRoleBinding"),
    ] {
        printers.insert(
            ("rbac.authorization.k8s.io", kind),
            printer(
                vec![
                    name_column(),
                    column(
                        "Role",
                        "string",
                        0,
                        doc::<k8s::rbac::v1::RoleBinding>("roleRef"),
                    ),
                    age_column(),
                    column("Users", "string", 1, format!("Users in the {what}")),
                    column("Groups", "string", 1, format!("Groups in the {what}")),
                    column(
                        "ServiceAccounts",
                        "string",
                        1,
                        format!("ServiceAccounts in the {what}"),
                    ),
                ],
                binding_cells,
            ),
        );
    }
    printers.insert(
        ("coordination.k8s.io", "Lease"),
        printer(
            vec![
                name_column(),
                column(
                    "Holder",
                    "string",
                    0,
                    doc::<k8s::coordination::v1::LeaseSpec>("holderIdentity"),
                ),
                age_column(),
            ],
            |o, now| {
                vec![
                    Value::from(name_of(o)),
                    Value::from(text(o, &["spec", "holderIdentity"])),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("storage.k8s.io", "StorageClass"),
        printer(
            vec![
                name_column(),
                column(
                    "Provisioner",
                    "string",
                    0,
                    doc::<k8s::storage::v1::StorageClass>("provisioner"),
                ),
                column(
                    "ReclaimPolicy",
                    "string",
                    0,
                    doc::<k8s::storage::v1::StorageClass>("reclaimPolicy"),
                ),
                column(
                    "VolumeBindingMode",
                    "string",
                    0,
                    doc::<k8s::storage::v1::StorageClass>("volumeBindingMode"),
                ),
                column(
                    "AllowVolumeExpansion",
                    "string",
                    0,
                    doc::<k8s::storage::v1::StorageClass>("allowVolumeExpansion"),
                ),
                age_column(),
            ],
            |o, now| {
                let annotations = at(o, &["metadata", "annotations"]);
                let default = [
                    "storageclass.kubernetes.io/is-default-class",
                    "storageclass.beta.kubernetes.io/is-default-class",
                ]
                .iter()
                .any(|key| text(annotations, &[key]) == "true");
                let name = if default {
                    format!("{} (default)", name_of(o))
                } else {
                    name_of(o).to_owned()
                };
                vec![
                    Value::from(name),
                    Value::from(text(o, &["provisioner"])),
                    Value::from(or(text(o, &["reclaimPolicy"]), "Delete")),
                    Value::from(or(text(o, &["volumeBindingMode"]), "Immediate")),
                    Value::from(at(o, &["allowVolumeExpansion"]).as_bool().unwrap_or(false)),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("apps", "ControllerRevision"),
        printer(
            vec![
                name_column(),
                column("Controller", "string", 0, "Controller of the object"),
                column(
                    "Revision",
                    "string",
                    0,
                    doc::<k8s::apps::v1::ControllerRevision>("revision"),
                ),
                age_column(),
            ],
            |o, now| {
                let controller = list(o, &["metadata", "ownerReferences"])
                    .iter()
                    .find(|r| r.get("controller") == Some(&Value::Bool(true)))
                    .map_or_else(
                        || "<none>".to_owned(),
                        |r| {
                            let kind = text(r, &["kind"]);
                            let group = text(r, &["apiVersion"])
                                .rsplit_once('/')
                                .map_or("", |(g, _)| g);
                            let group_kind = if group.is_empty() {
                                kind.to_owned()
                            } else {
                                format!("{kind}.{group}")
                            };
                            format!("{}/{}", group_kind.to_lowercase(), text(r, &["name"]))
                        },
                    );
                vec![
                    Value::from(name_of(o)),
                    Value::from(controller),
                    Value::from(int(o, &["revision"])),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("", "ResourceQuota"),
        printer(
            vec![
                name_column(),
                column("Request", "string", 0, "Request represents a minimum amount of cpu/memory that a container may consume."),
                column("Limit", "string", 0, "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
                age_column(),
            ],
            |o, now| {
                let hard = at(o, &["status", "hard"]);
                let used = at(o, &["status", "used"]);
                let names: BTreeSet<&String> = hard.as_object().map(|m| m.keys().collect()).unwrap_or_default();
                let mut requests = Vec::new();
                let mut limits = Vec::new();
                for name in names {
                    let line = format!(
                        "{name}: {}/{}",
                        or(text(used, &[name.as_str()]), "0"),
                        text(hard, &[name.as_str()])
                    );
                    if name.split('.').next() == Some("limits") && name.contains('.') {
                        limits.push(line);
                    } else {
                        requests.push(line);
                    }
                }
                vec![
                    Value::from(name_of(o)),
                    Value::from(requests.join(", ")),
                    Value::from(limits.join(", ")),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("scheduling.k8s.io", "PriorityClass"),
        printer(
            vec![
                name_column(),
                column(
                    "Value",
                    "integer",
                    0,
                    doc::<k8s::scheduling::v1::PriorityClass>("value"),
                ),
                column(
                    "Global-Default",
                    "boolean",
                    0,
                    doc::<k8s::scheduling::v1::PriorityClass>("globalDefault"),
                ),
                age_column(),
                column(
                    "PreemptionPolicy",
                    "string",
                    0,
                    doc::<k8s::scheduling::v1::PriorityClass>("preemptionPolicy"),
                ),
            ],
            |o, now| {
                vec![
                    Value::from(name_of(o)),
                    Value::from(int(o, &["value"])),
                    Value::from(at(o, &["globalDefault"]).as_bool().unwrap_or(false)),
                    age(o, now),
                    Value::from(text(o, &["preemptionPolicy"])),
                ]
            },
        ),
    );
    printers.insert(
        ("autoscaling", "Scale"),
        printer(
            vec![
                // kube-apiserver gives this name column no `name` format.
                column("Name", "string", 0, doc::<meta::ObjectMeta>("name")),
                column(
                    "Desired",
                    "integer",
                    0,
                    doc::<k8s::autoscaling::v1::ScaleSpec>("replicas"),
                ),
                column(
                    "Available",
                    "integer",
                    0,
                    doc::<k8s::autoscaling::v1::ScaleStatus>("replicas"),
                ),
                age_column(),
            ],
            |o, now| {
                vec![
                    Value::from(name_of(o)),
                    Value::from(int(o, &["spec", "replicas"])),
                    Value::from(int(o, &["status", "replicas"])),
                    age(o, now),
                ]
            },
        ),
    );
    printers.insert(
        ("discovery.k8s.io", "EndpointSlice"),
        printer(
            vec![
                name_column(),
                column(
                    "AddressType",
                    "string",
                    0,
                    doc::<k8s::discovery::v1::EndpointSlice>("addressType"),
                ),
                column(
                    "Ports",
                    "string",
                    0,
                    doc::<k8s::discovery::v1::EndpointSlice>("ports"),
                ),
                column(
                    "Endpoints",
                    "string",
                    0,
                    doc::<k8s::discovery::v1::EndpointSlice>("endpoints"),
                ),
                age_column(),
            ],
            |o, now| {
                let ports: Vec<String> = list(o, &["ports"])
                    .iter()
                    .map(
                        |p| match (p.get("port"), p.get("name").and_then(Value::as_str)) {
                            (Some(Value::Number(n)), _) => n.to_string(),
                            (_, Some(name)) => name.to_owned(),
                            _ => "*".to_owned(),
                        },
                    )
                    .collect();
                let addresses: Vec<String> = list(o, &["endpoints"])
                    .iter()
                    .flat_map(|e| list(e, &["addresses"]).iter())
                    .map(|a| a.as_str().unwrap_or_default().to_owned())
                    .collect();
                vec![
                    Value::from(name_of(o)),
                    Value::from(text(o, &["addressType"])),
                    Value::from(list_with_more(&ports, 3)),
                    Value::from(list_with_more(&addresses, 3)),
                    age(o, now),
                ]
            },
        ),
    );
    printers
}

fn pod_conditions(pod: &Value) -> Option<Value> {
    let (reason, message) = match text(pod, &["status", "phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

/// A later `finishedAt` of a container's last termination, if any.
fn later_termination(latest: Option<Timestamp>, status: &Value) -> Option<Timestamp> {
    let finished = text(status, &["lastState", "terminated", "finishedAt"])
        .parse::<Timestamp>()
        .ok();
    match (latest, finished) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn condition_true(object: &Value, path: &[&str], kind: &str) -> bool {
    list(object, path)
        .iter()
        .any(|c| text(c, &["type"]) == kind && text(c, &["status"]) == "True")
}

#[allow(clippy::too_many_lines)]
fn pod_cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    let spec = at(pod, &["spec"]);
    let status = at(pod, &["status"]);
    let mut restarts = 0_i64;
    let mut restartable_init_restarts = 0_i64;
    let mut total = list(spec, &["containers"]).len();
    let mut ready = 0_usize;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_init_restart: Option<Timestamp> = None;

    let phase = or(text(status, &["phase"]), "Pending");
    let mut reason = or(text(status, &["reason"]), phase).to_owned();
    if list(status, &["conditions"])
        .iter()
        .any(|c| text(c, &["type"]) == "PodScheduled" && text(c, &["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".to_owned();
    }

    let init_containers = list(spec, &["initContainers"]);
    let restartable = |name: &str| {
        init_containers
            .iter()
            .any(|c| text(c, &["name"]) == name && text(c, &["restartPolicy"]) == "Always")
    };
    total += init_containers
        .iter()
        .filter(|c| text(c, &["restartPolicy"]) == "Always")
        .count();

    let mut initializing = false;
    for (index, container) in list(status, &["initContainerStatuses"]).iter().enumerate() {
        restarts += int(container, &["restartCount"]);
        last_restart = later_termination(last_restart, container);
        let is_restartable = restartable(text(container, &["name"]));
        if is_restartable {
            restartable_init_restarts += int(container, &["restartCount"]);
            last_restartable_init_restart =
                later_termination(last_restartable_init_restart, container);
        }
        let terminated = at(container, &["state", "terminated"]);
        let waiting = at(container, &["state", "waiting"]);
        if terminated.is_object() && int(terminated, &["exitCode"]) == 0 {
            continue;
        }
        if is_restartable && container.get("started") == Some(&Value::Bool(true)) {
            if container.get("ready") == Some(&Value::Bool(true)) {
                ready += 1;
            }
            continue;
        }
        if terminated.is_object() {
            reason = match text(terminated, &["reason"]) {
                "" if int(terminated, &["signal"]) != 0 => {
                    format!("Init:Signal:{}", int(terminated, &["signal"]))
                }
                "" => format!("Init:ExitCode:{}", int(terminated, &["exitCode"])),
                why => format!("Init:{why}"),
            };
        } else if waiting.is_object()
            && !text(waiting, &["reason"]).is_empty()
            && text(waiting, &["reason"]) != "PodInitializing"
        {
            reason = format!("Init:{}", text(waiting, &["reason"]));
        } else {
            reason = format!("Init:{index}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(status, &["conditions"], "Initialized") {
        restarts = restartable_init_restarts;
        last_restart = last_restartable_init_restart;
        let mut has_running = false;
        for container in list(status, &["containerStatuses"]).iter().rev() {
            restarts += int(container, &["restartCount"]);
            last_restart = later_termination(last_restart, container);
            let waiting = at(container, &["state", "waiting"]);
            let terminated = at(container, &["state", "terminated"]);
            if !text(waiting, &["reason"]).is_empty() {
                reason = text(waiting, &["reason"]).to_owned();
            } else if !text(terminated, &["reason"]).is_empty() {
                reason = text(terminated, &["reason"]).to_owned();
            } else if terminated.is_object() {
                reason = if int(terminated, &["signal"]) == 0 {
                    format!("ExitCode:{}", int(terminated, &["exitCode"]))
                } else {
                    format!("Signal:{}", int(terminated, &["signal"]))
                };
            } else if container.get("ready") == Some(&Value::Bool(true))
                && at(container, &["state", "running"]).is_object()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(status, &["conditions"], "Ready") {
                "Running".to_owned()
            } else {
                "NotReady".to_owned()
            };
        }
    }

    if terminating(pod) && text(status, &["reason"]) == "NodeLost" {
        reason = "Unknown".to_owned();
    } else if terminating(pod) && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_owned();
    }

    let restarts = match last_restart {
        Some(when) if restarts != 0 => format!("{restarts} ({} ago)", duration_since(when, now)),
        _ => restarts.to_string(),
    };
    let pod_ip = list(status, &["podIPs"])
        .first()
        .map(|ip| text(ip, &["ip"]))
        .unwrap_or_default();
    let gates = list(spec, &["readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_owned()
    } else {
        let satisfied = gates
            .iter()
            .filter(|gate| {
                list(status, &["conditions"])
                    .iter()
                    .find(|c| text(c, &["type"]) == text(gate, &["conditionType"]))
                    .is_some_and(|c| text(c, &["status"]) == "True")
            })
            .count();
        format!("{satisfied}/{}", gates.len())
    };
    vec![
        Value::from(name_of(pod)),
        Value::from(format!("{ready}/{total}")),
        Value::from(reason),
        Value::from(restarts),
        age(pod, now),
        Value::from(or_none(pod_ip)),
        Value::from(or_none(text(spec, &["nodeName"]))),
        Value::from(or_none(text(status, &["nominatedNodeName"]))),
        Value::from(readiness_gates),
    ]
}

fn job_cells(job: &Value, now: Timestamp) -> Vec<Value> {
    let spec = at(job, &["spec"]);
    let succeeded = int(job, &["status", "succeeded"]);
    let completions = match spec.get("completions").and_then(Value::as_i64) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match spec.get("parallelism").and_then(Value::as_i64).unwrap_or(0) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = text(job, &["status", "startTime"])
        .parse::<Timestamp>()
        .ok();
    let end = text(job, &["status", "completionTime"])
        .parse::<Timestamp>()
        .ok();
    let duration = match (start, end) {
        (None, _) => String::new(),
        (Some(start), None) => duration_since(start, now),
        (Some(start), Some(end)) => duration_since(start, end),
    };
    let conditions = &["status", "conditions"];
    let status = if condition_true(job, conditions, "Complete") {
        "Complete"
    } else if condition_true(job, conditions, "Failed") {
        "Failed"
    } else if terminating(job) {
        "Terminating"
    } else if condition_true(job, conditions, "Suspended") {
        "Suspended"
    } else if condition_true(job, conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = containers(at(spec, &["template", "spec", "containers"]));
    vec![
        Value::from(name_of(job)),
        Value::from(status),
        Value::from(completions),
        Value::from(duration),
        age(job, now),
        Value::from(names),
        Value::from(images),
        Value::from(format_label_selector(at(spec, &["selector"]))),
    ]
}

fn service_cells(service: &Value, now: Timestamp) -> Vec<Value> {
    let spec = at(service, &["spec"]);
    let service_type = or(text(spec, &["type"]), "ClusterIP");
    let cluster_ip = list(spec, &["clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .unwrap_or_else(|| text(spec, &["clusterIP"]));
    let external: Vec<&str> = list(spec, &["externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let external_ip = match service_type {
        "ClusterIP" | "NodePort" if !external.is_empty() => external.join(","),
        "ClusterIP" | "NodePort" => "<none>".to_owned(),
        "LoadBalancer" => {
            let balancer = load_balancer_addresses(at(service, &["status", "loadBalancer"]));
            let mut all: Vec<String> = if balancer.is_empty() {
                Vec::new()
            } else {
                balancer.split(',').map(str::to_owned).collect()
            };
            if external.is_empty() && all.is_empty() {
                "<pending>".to_owned()
            } else {
                all.extend(external.iter().map(|s| (*s).to_owned()));
                all.join(",")
            }
        }
        "ExternalName" => text(spec, &["externalName"]).to_owned(),
        _ => "<unknown>".to_owned(),
    };
    let ports: Vec<String> = list(spec, &["ports"])
        .iter()
        .map(|p| {
            let protocol = or(text(p, &["protocol"]), "TCP");
            match int(p, &["nodePort"]) {
                node_port if node_port > 0 => {
                    format!("{}:{node_port}/{protocol}", int(p, &["port"]))
                }
                _ => format!("{}/{protocol}", int(p, &["port"])),
            }
        })
        .collect();
    vec![
        Value::from(name_of(service)),
        Value::from(service_type),
        Value::from(or_none(cluster_ip)),
        Value::from(external_ip),
        Value::from(or_none(&ports.join(","))),
        age(service, now),
        Value::from(format_labels(at(spec, &["selector"]))),
    ]
}

fn node_cells(node: &Value, now: Timestamp) -> Vec<Value> {
    let mut status: Vec<String> = list(node, &["status", "conditions"])
        .iter()
        .filter(|c| text(c, &["type"]) == "Ready")
        .take(1)
        .map(|c| {
            if text(c, &["status"]) == "True" {
                "Ready".to_owned()
            } else {
                "NotReady".to_owned()
            }
        })
        .collect();
    if status.is_empty() {
        status.push("Unknown".to_owned());
    }
    if at(node, &["spec", "unschedulable"]) == &Value::Bool(true) {
        status.push("SchedulingDisabled".to_owned());
    }
    let mut roles = BTreeSet::new();
    if let Some(labels) = at(node, &["metadata", "labels"]).as_object() {
        for (key, value) in labels {
            if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_owned());
                }
            } else if key == "kubernetes.io/role" && value.as_str().is_some_and(|v| !v.is_empty()) {
                roles.insert(value.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    let roles = roles.into_iter().collect::<Vec<_>>().join(",");
    let address = |kind: &str| {
        list(node, &["status", "addresses"])
            .iter()
            .find(|a| text(a, &["type"]) == kind)
            .map_or("<none>", |a| text(a, &["address"]))
            .to_owned()
    };
    let info = at(node, &["status", "nodeInfo"]);
    let unknown = |field: &str| match text(info, &[field]) {
        "" => "<unknown>".to_owned(),
        value => value.to_owned(),
    };
    vec![
        Value::from(name_of(node)),
        Value::from(status.join(",")),
        Value::from(or_none(&roles)),
        age(node, now),
        Value::from(text(info, &["kubeletVersion"])),
        Value::from(address("InternalIP")),
        Value::from(address("ExternalIP")),
        Value::from(unknown("osImage")),
        Value::from(unknown("kernelVersion")),
        Value::from(unknown("containerRuntimeVersion")),
    ]
}

fn event_columns() -> Vec<ColumnDefinition> {
    let event = |field: &str| doc::<k8s::core::v1::Event>(field);
    vec![
        column("Last Seen", "string", 0, event("lastTimestamp")),
        column("Type", "string", 0, event("type")),
        column("Reason", "string", 0, event("reason")),
        column("Object", "string", 0, event("involvedObject")),
        column(
            "Subobject",
            "string",
            1,
            doc::<k8s::core::v1::ObjectReference>("fieldPath"),
        ),
        column("Source", "string", 1, event("source")),
        column("Message", "string", 0, event("message")),
        column("First Seen", "string", 1, event("firstTimestamp")),
        column("Count", "string", 1, event("count")),
        ColumnDefinition {
            priority: 1,
            ..name_column()
        },
    ]
}

/// An `events.k8s.io/v1` Event with its fields under their core names, for the printer.
fn events_v1_as_core(event: &Value) -> Value {
    let renames = [
        ("regarding", "involvedObject"),
        ("note", "message"),
        ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ];
    let mut core = event.clone();
    if let Some(fields) = core.as_object_mut() {
        for (from, to) in renames {
            if let Some(value) = fields.remove(from) {
                fields.insert(to.to_owned(), value);
            }
        }
        if let Some(controller) = fields.get("reportingComponent").cloned() {
            fields.insert("reportingController".to_owned(), controller);
        }
    }
    core
}

fn event_cells(event: &Value, now: Timestamp) -> Vec<Value> {
    let time_since = |field: &str| match text(event, &[field]) {
        "" => None,
        time => Some(since(time, now)),
    };
    let first = time_since("firstTimestamp").unwrap_or_else(|| match text(event, &["eventTime"]) {
        "" => "<unknown>".to_owned(),
        time => since(time, now),
    });
    let mut last = time_since("lastTimestamp").unwrap_or_else(|| first.clone());
    let mut count = int(event, &["count"]);
    let series = at(event, &["series"]);
    if series.is_object() {
        last = match text(series, &["lastObservedTime"]) {
            "" => "<unknown>".to_owned(),
            time => since(time, now),
        };
        count = int(series, &["count"]);
    } else if count == 0 {
        count = 1;
    }
    let involved = at(event, &["involvedObject"]);
    let kind = text(involved, &["kind"]).to_lowercase();
    let target = match text(involved, &["name"]) {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    let component = or(
        text(event, &["source", "component"]),
        text(event, &["reportingController"]),
    );
    let host = or(
        text(event, &["source", "host"]),
        text(event, &["reportingInstance"]),
    );
    let source = if host.is_empty() {
        component.to_owned()
    } else {
        format!("{component}, {host}")
    };
    vec![
        Value::from(last),
        Value::from(text(event, &["type"])),
        Value::from(text(event, &["reason"])),
        Value::from(target),
        Value::from(text(involved, &["fieldPath"])),
        Value::from(source),
        Value::from(text(event, &["message"]).trim()),
        Value::from(first),
        Value::from(count),
        Value::from(name_of(event)),
    ]
}

fn binding_cells(binding: &Value, now: Timestamp) -> Vec<Value> {
    let role = at(binding, &["roleRef"]);
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut accounts = Vec::new();
    for subject in list(binding, &["subjects"]) {
        let name = text(subject, &["name"]);
        match text(subject, &["kind"]) {
            "ServiceAccount" => accounts.push(format!("{}/{name}", text(subject, &["namespace"]))),
            "User" => users.push(name.to_owned()),
            "Group" => groups.push(name.to_owned()),
            _ => {}
        }
    }
    vec![
        Value::from(name_of(binding)),
        Value::from(format!(
            "{}/{}",
            text(role, &["kind"]),
            text(role, &["name"])
        )),
        age(binding, now),
        Value::from(users.join(", ")),
        Value::from(groups.join(", ")),
        Value::from(accounts.join(", ")),
    ]
}

/// `formatHPAMetrics`: at most two metrics as `current/target`, then `+ N more...`.
fn hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".to_owned();
    }
    let mut shown = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let status = statuses.get(index).unwrap_or(&Value::Null);
        let quantity = |value: &Value, path: &[&str]| match at(value, path) {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
        let unknown = || "<unknown>".to_owned();
        let line = match text(spec, &["type"]) {
            source @ ("External" | "Object") => {
                let field = if source == "External" {
                    "external"
                } else {
                    "object"
                };
                let target = at(spec, &[field, "target"]);
                if let Some(average) = quantity(target, &["averageValue"]) {
                    let current = quantity(status, &[field, "current", "averageValue"])
                        .unwrap_or_else(unknown);
                    format!("{current}/{average} (avg)")
                } else {
                    let current =
                        quantity(status, &[field, "current", "value"]).unwrap_or_else(unknown);
                    let value = quantity(target, &["value"]).unwrap_or_default();
                    format!("{current}/{value}")
                }
            }
            "Pods" => {
                let current =
                    quantity(status, &["pods", "current", "averageValue"]).unwrap_or_else(unknown);
                let target =
                    quantity(spec, &["pods", "target", "averageValue"]).unwrap_or_default();
                format!("{current}/{target}")
            }
            source @ ("Resource" | "ContainerResource") => {
                let field = if source == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let name = text(spec, &[field, "name"]);
                let target = at(spec, &[field, "target"]);
                if let Some(average) = quantity(target, &["averageValue"]) {
                    let current = quantity(status, &[field, "current", "averageValue"])
                        .unwrap_or_else(unknown);
                    format!("{name}: {current}/{average}")
                } else {
                    let current = match at(status, &[field, "current", "averageUtilization"]) {
                        Value::Number(n) => format!("{n}%"),
                        _ => unknown(),
                    };
                    let target = match at(target, &["averageUtilization"]) {
                        Value::Number(n) => format!("{n}%"),
                        _ => "<auto>".to_owned(),
                    };
                    format!("{name}: {current}/{target}")
                }
            }
            _ => "<unknown type>".to_owned(),
        };
        shown.push(line);
    }
    if shown.len() > 2 {
        let more = shown.len() - 2;
        shown.truncate(2);
        format!("{} + {more} more...", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// `formatEndpoints`: up to three `ip:port` (or bare IPs for port-less subsets), then
/// `+ N more...`; `<none>` without subsets.
fn format_endpoints(endpoints: &Value) -> String {
    let subsets = list(endpoints, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_owned();
    }
    let mut shown: Vec<String> = Vec::new();
    let mut count = 0;
    for subset in subsets {
        let addresses = list(subset, &["addresses"]);
        let ports = list(subset, &["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            for address in addresses {
                if shown.len() < 3 {
                    shown.push(text(address, &["ip"]).to_owned());
                }
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for address in addresses {
                if shown.len() < 3 {
                    let ip = text(address, &["ip"]);
                    let port = int(port, &["port"]);
                    if ip.contains(':') {
                        shown.push(format!("[{ip}]:{port}"));
                    } else {
                        shown.push(format!("{ip}:{port}"));
                    }
                }
            }
        }
    }
    let joined = shown.join(",");
    if count > 3 {
        format!("{joined} + {} more...", count - 3)
    } else {
        joined
    }
}

/// `listWithMoreString`: up to `max` items, `+ N more...`, `<unset>` when empty.
fn list_with_more(items: &[String], max: usize) -> String {
    let joined = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    if items.len() > max {
        format!("{joined} + {} more...", items.len() - max)
    } else if joined.is_empty() {
        "<unset>".to_owned()
    } else {
        joined
    }
}

fn load_balancer_addresses(status: &Value) -> String {
    let addresses: BTreeSet<&str> = list(status, &["ingress"])
        .iter()
        .filter_map(|i| match (text(i, &["ip"]), text(i, &["hostname"])) {
            ("", "") => None,
            ("", hostname) => Some(hostname),
            (ip, _) => Some(ip),
        })
        .collect();
    addresses.into_iter().collect::<Vec<_>>().join(",")
}

fn access_modes(modes: &[Value]) -> String {
    let has = |mode: &str| modes.iter().any(|m| m.as_str() == Some(mode));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// Container names and images, comma-separated.
fn containers(containers: &Value) -> (String, String) {
    let containers = containers.as_array().map(Vec::as_slice).unwrap_or_default();
    let names: Vec<&str> = containers.iter().map(|c| text(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| text(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

/// `labels.FormatLabels`: `k=v` sorted by key, `<none>` when empty.
pub fn format_labels(labels: &Value) -> String {
    let labels: BTreeMap<&String, &str> = labels
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if labels.is_empty() {
        return "<none>".to_owned();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `metav1.FormatLabelSelector`: the selector's string form, `<none>` when it selects
/// everything (or is absent), `<error>` when it is invalid.
pub fn format_label_selector(selector: &Value) -> String {
    match label_selector_string(selector) {
        None => "<error>".to_owned(),
        Some(text) if text.is_empty() => "<none>".to_owned(),
        Some(text) => text,
    }
}

/// A label selector as `labels.Selector.String()` writes it: requirements sorted by key,
/// `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; `None` when it is invalid.
fn label_selector_string(selector: &Value) -> Option<String> {
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            requirements.push((key.clone(), format!("{key}={}", value.as_str()?)));
        }
    }
    for expression in list(selector, &["matchExpressions"]) {
        let key = text(expression, &["key"]);
        let mut values: Vec<&str> = list(expression, &["values"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let rendered = match text(expression, &["operator"]) {
            "In" if !values.is_empty() => format!("{key} in ({})", values.join(",")),
            "NotIn" if !values.is_empty() => format!("{key} notin ({})", values.join(",")),
            "Exists" if values.is_empty() => key.to_owned(),
            "DoesNotExist" if values.is_empty() => format!("!{key}"),
            _ => return None,
        };
        requirements.push((key.to_owned(), rendered));
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    Some(
        requirements
            .into_iter()
            .map(|(_, r)| r)
            .collect::<Vec<_>>()
            .join(","),
    )
}

static NULL: Value = Value::Null;

/// The value at `path`, or null.
fn at<'v>(value: &'v Value, path: &[&str]) -> &'v Value {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .unwrap_or(&NULL)
}

/// The string at `path`, or `""`.
fn text<'v>(value: &'v Value, path: &[&str]) -> &'v str {
    at(value, path).as_str().unwrap_or_default()
}

/// The integer at `path`, or 0.
fn int(value: &Value, path: &[&str]) -> i64 {
    at(value, path).as_i64().unwrap_or(0)
}

/// The list at `path`, or an empty one.
fn list<'v>(value: &'v Value, path: &[&str]) -> &'v [Value] {
    at(value, path)
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn map_len(value: &Value) -> usize {
    value.as_object().map_or(0, serde_json::Map::len)
}

fn name_of(object: &Value) -> &str {
    text(object, &["metadata", "name"])
}

fn terminating(object: &Value) -> bool {
    !text(object, &["metadata", "deletionTimestamp"]).is_empty()
}

/// `spec.replicas`, 1 when unset (the default kube-apiserver fills in).
fn replicas(object: &Value) -> i64 {
    at(object, &["spec", "replicas"]).as_i64().unwrap_or(1)
}

fn or<'a>(value: &'a str, fallback: &'a str) -> &'a str {
    if value.is_empty() { fallback } else { value }
}

fn or_none(value: &str) -> String {
    or(value, "<none>").to_owned()
}

fn or_unset(value: &str) -> String {
    or(value, "<unset>").to_owned()
}

/// The age of an object (`translateTimestampSince` of its creation).
fn age(object: &Value, now: Timestamp) -> Value {
    Value::from(match text(object, &["metadata", "creationTimestamp"]) {
        "" => "<unknown>".to_owned(),
        time => since(time, now),
    })
}

/// The human duration since an RFC 3339 time.
fn since(time: &str, now: Timestamp) -> String {
    time.parse::<Timestamp>()
        .map_or_else(|_| "<unknown>".to_owned(), |t| duration_since(t, now))
}

fn duration_since(then: Timestamp, now: Timestamp) -> String {
    human_duration(now.as_second() - then.as_second())
}

/// apimachinery's `duration.HumanDuration` of a number of seconds: `45s`, `3m12s`, `5h`,
/// `3d4h`, `2y30d`; `<invalid>` for more than a second in the future.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    fn cells(group: &str, kind: &str, object: &Value) -> Vec<Value> {
        (for_kind(group, kind).cells)(object, now())
    }

    fn headers(group: &str, kind: &str) -> Vec<(String, i64)> {
        for_kind(group, kind)
            .columns
            .iter()
            .map(|c| (c.name.to_uppercase(), c.priority))
            .collect()
    }

    fn shown(group: &str, kind: &str, wide: bool) -> Vec<String> {
        headers(group, kind)
            .into_iter()
            .filter(|(_, p)| wide || *p == 0)
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn headers_match_kubectl_get_on_a_real_cluster() {
        let cases: &[(&str, &str, &str)] = &[
            ("", "Pod", "NAME READY STATUS RESTARTS AGE"),
            ("apps", "Deployment", "NAME READY UP-TO-DATE AVAILABLE AGE"),
            ("apps", "ReplicaSet", "NAME DESIRED CURRENT READY AGE"),
            ("apps", "StatefulSet", "NAME READY AGE"),
            (
                "apps",
                "DaemonSet",
                "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE",
            ),
            ("batch", "Job", "NAME STATUS COMPLETIONS DURATION AGE"),
            (
                "batch",
                "CronJob",
                "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE",
            ),
            (
                "",
                "Service",
                "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE",
            ),
            ("", "ConfigMap", "NAME DATA AGE"),
            ("", "Secret", "NAME TYPE DATA AGE"),
            ("", "Namespace", "NAME STATUS AGE"),
            ("", "ServiceAccount", "NAME SECRETS AGE"),
            ("", "Event", "LAST SEEN TYPE REASON OBJECT MESSAGE"),
            ("", "Endpoints", "NAME ENDPOINTS AGE"),
            (
                "networking.k8s.io",
                "Ingress",
                "NAME CLASS HOSTS ADDRESS PORTS AGE",
            ),
            ("coordination.k8s.io", "Lease", "NAME HOLDER AGE"),
            (
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                "NAME CREATED AT",
            ),
            ("rbac.authorization.k8s.io", "Role", "NAME CREATED AT"),
            ("rbac.authorization.k8s.io", "RoleBinding", "NAME ROLE AGE"),
            (
                "autoscaling",
                "HorizontalPodAutoscaler",
                "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE",
            ),
            (
                "policy",
                "PodDisruptionBudget",
                "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE",
            ),
            (
                "",
                "PersistentVolumeClaim",
                "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
            ),
            (
                "scheduling.k8s.io",
                "PriorityClass",
                "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY",
            ),
            (
                "storage.k8s.io",
                "StorageClass",
                "NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE",
            ),
            (
                "networking.k8s.io",
                "NetworkPolicy",
                "NAME POD-SELECTOR AGE",
            ),
        ];
        for (group, kind, expected) in cases {
            assert_eq!(shown(group, kind, false).join(" "), *expected, "{kind}");
        }
        assert_eq!(
            shown("", "Pod", true).join(" "),
            "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES"
        );
        assert_eq!(
            shown("apps", "Deployment", true).join(" "),
            "NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR"
        );
    }

    #[test]
    fn every_row_has_one_cell_per_column() {
        let object =
            json!({"metadata": {"name": "x", "creationTimestamp": "2026-11-22T11:00:00Z"}});
        for ((group, kind), printer) in all_printers() {
            assert_eq!(
                (printer.cells)(&object, now()).len(),
                printer.columns.len(),
                "{group}/{kind}"
            );
        }
    }

    #[test]
    fn a_running_pod_reads_ready_running_with_its_restarts() {
        let pod = json!({
            "metadata": {"name": "web-1", "creationTimestamp": "2026-11-22T11:55:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "node-1"},
            "status": {
                "phase": "Running",
                "podIPs": [{"ip": "10.0.0.7"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {"name": "a", "ready": true, "restartCount": 2, "state": {"running": {}},
                     "lastState": {"terminated": {"finishedAt": "2026-11-22T11:58:00Z"}}},
                    {"name": "b", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
                ]
            }
        });
        assert_eq!(
            cells("", "Pod", &pod),
            vec![
                json!("web-1"),
                json!("1/2"),
                json!("CrashLoopBackOff"),
                json!("2 (2m ago)"),
                json!("5m"),
                json!("10.0.0.7"),
                json!("node-1"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn pod_status_reflects_init_containers_deletion_and_completion() {
        let initializing = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
                {"name": "i2", "state": {"running": {}}}
            ]}
        });
        assert_eq!(cells("", "Pod", &initializing)[2], json!("Init:1/2"));
        let deleting = json!({"metadata": {"name": "p", "deletionTimestamp": "2026-11-22T11:00:00Z"},
                              "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Running"}});
        assert_eq!(cells("", "Pod", &deleting)[2], json!("Terminating"));
        let done = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]},
                          "status": {"phase": "Succeeded", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
        assert_eq!(cells("", "Pod", &done)[2], json!("Completed"));
        assert_eq!(
            (for_kind("", "Pod").conditions)(&done).unwrap()[0]["type"],
            "Completed"
        );
    }

    #[test]
    fn deployment_cells_show_ready_of_desired_and_the_selector() {
        let deployment = json!({
            "metadata": {"name": "web", "creationTimestamp": "2026-11-20T12:00:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]},
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        assert_eq!(
            cells("apps", "Deployment", &deployment),
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("2d"),
                json!("web,side"),
                json!("nginx:1,busybox"),
                json!("app=web,tier in (a,b)")
            ]
        );
    }

    #[test]
    fn job_and_cronjob_cells_read_like_kubectl() {
        let job = json!({
            "metadata": {"name": "j"},
            "spec": {"completions": 3, "selector": {"matchLabels": {"job": "j"}}, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
            "status": {"succeeded": 3, "startTime": "2026-11-22T11:00:00Z", "completionTime": "2026-11-22T11:00:42Z",
                       "conditions": [{"type": "Complete", "status": "True"}]}
        });
        let row = cells("batch", "Job", &job);
        assert_eq!(&row[1..4], &[json!("Complete"), json!("3/3"), json!("42s")]);
        let cron = json!({"metadata": {"name": "c"}, "spec": {"schedule": "*/5 * * * *", "suspend": false,
                          "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}});
        let row = cells("batch", "CronJob", &cron);
        assert_eq!(
            &row[1..6],
            &[
                json!("*/5 * * * *"),
                json!("<none>"),
                json!("False"),
                json!(0),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn service_cells_show_type_ips_and_ports() {
        let service = json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"], "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "selector": {"app": "s"}}});
        let row = cells("", "Service", &service);
        assert_eq!(
            row[1..5],
            [
                json!("NodePort"),
                json!("10.96.0.10"),
                json!("<none>"),
                json!("80:30080/TCP,53/UDP")
            ]
        );
        assert_eq!(row[6], json!("app=s"));
        let balancer =
            json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": []}});
        assert_eq!(cells("", "Service", &balancer)[3], json!("<pending>"));
    }

    #[test]
    fn events_of_both_apis_print_the_same_row() {
        let core = json!({"metadata": {"name": "e1"}, "type": "Normal", "reason": "Created",
            "involvedObject": {"kind": "Pod", "name": "web-1"}, "message": "made it ",
            "firstTimestamp": "2026-11-22T11:59:00Z", "lastTimestamp": "2026-11-22T11:59:30Z", "count": 2,
            "source": {"component": "kubelet"}});
        let row = cells("", "Event", &core);
        assert_eq!(
            row,
            vec![
                json!("30s"),
                json!("Normal"),
                json!("Created"),
                json!("pod/web-1"),
                json!(""),
                json!("kubelet"),
                json!("made it"),
                json!("60s"),
                json!(2),
                json!("e1")
            ]
        );
        let v1 = json!({"metadata": {"name": "e1"}, "type": "Normal", "reason": "Created",
            "regarding": {"kind": "Pod", "name": "web-1"}, "note": "made it ",
            "deprecatedFirstTimestamp": "2026-11-22T11:59:00Z", "deprecatedLastTimestamp": "2026-11-22T11:59:30Z", "deprecatedCount": 2,
            "deprecatedSource": {"component": "kubelet"}});
        assert_eq!(cells("events.k8s.io", "Event", &v1), row);
    }

    #[test]
    fn default_printer_shows_the_creation_time_in_utc() {
        let role = json!({"metadata": {"name": "r", "creationTimestamp": "2026-11-22T11:00:00Z"}});
        assert_eq!(
            cells("rbac.authorization.k8s.io", "Role", &role),
            vec![json!("r"), json!("2026-11-22T11:00:00Z")]
        );
    }

    #[test]
    fn selectors_and_labels_format_like_apimachinery() {
        assert_eq!(format_label_selector(&Value::Null), "<none>");
        assert_eq!(format_label_selector(&json!({})), "<none>");
        assert_eq!(
            format_label_selector(&json!({"matchExpressions": [
                {"key": "b", "operator": "Exists"}, {"key": "a", "operator": "DoesNotExist"},
                {"key": "c", "operator": "NotIn", "values": ["y", "x"]}]})),
            "!a,b,c notin (x,y)"
        );
        assert_eq!(
            format_label_selector(
                &json!({"matchExpressions": [{"key": "a", "operator": "Bogus"}]})
            ),
            "<error>"
        );
        assert_eq!(format_labels(&json!({"b": "2", "a": "1"})), "a=1,b=2");
        assert_eq!(format_labels(&json!({})), "<none>");
    }

    #[test]
    fn durations_read_like_kubectl() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (5, "5s"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 + 120, "3h2m"),
            (10 * 3600, "10h"),
            (3 * 86400 + 3600, "3d1h"),
            (30 * 86400, "30d"),
            (800 * 86400, "2y70d"),
            (3000 * 86400, "8y"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(human_duration(seconds), expected, "{seconds}");
        }
    }
}
