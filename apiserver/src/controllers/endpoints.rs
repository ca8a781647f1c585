//! The Endpoints and EndpointSlice controllers: for every Service with a selector, the
//! pods it selects (those with an IP, not finished), ready ones as addresses and the
//! others as not-ready addresses (all ready with `publishNotReadyAddresses`), ports
//! resolved against the pods' named container ports. Endpoints are named after the
//! Service and deleted with it; EndpointSlices (`<service>-<random>`) are owned by it.
//! `LoadBalancer` Services get an ingress address, as a local cloud provider would give.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Action, ControllerError, Ctx, managers, util};
use crate::object;
use crate::resources::ResourceType;

const SERVICE_NAME: &str = "kubernetes.io/service-name";
const SLICE_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
const SLICE_CONTROLLER: &str = "endpointslice-controller.k8s.io";
const HEADLESS: &str = "service.kubernetes.io/headless";

/// One selected pod, as endpoints list it.
#[derive(Debug, Clone)]
struct Target {
    ip: String,
    node: Option<String>,
    hostname: Option<String>,
    name: String,
    uid: String,
    ready: bool,
    serving: bool,
    terminating: bool,
}

impl Target {
    fn reference(&self, namespace: &str) -> Value {
        json!({"kind": "Pod", "name": self.name, "namespace": namespace, "uid": self.uid})
    }
}

/// Reconciles the endpoints of every Service in a namespace.
///
/// # Errors
/// Failed writes.
pub(super) fn reconcile_namespace(
    ctx: &mut Ctx,
    namespace: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("", "services")?;
    for service in ctx.list(&rt, Some(namespace)) {
        reconcile(ctx, namespace, util::name(&service))?;
    }
    Ok(Action::Done)
}

/// Reconciles one Service's Endpoints, EndpointSlices and load-balancer status.
///
/// # Errors
/// Failed writes.
pub(super) fn reconcile(
    ctx: &mut Ctx,
    namespace: &str,
    name: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("", "services")?;
    let endpoints_rt = ctx.rt("", "endpoints")?;
    let Some(service) = ctx.get(&rt, Some(namespace), name) else {
        ctx.delete(&endpoints_rt, Some(namespace), name, None, None)?;
        return Ok(Action::Done);
    };
    if object::is_terminating(&service) {
        return Ok(Action::Done);
    }
    load_balancer(ctx, &rt, &service)?;
    let selector = util::at(&service, &["spec", "selector"])
        .and_then(Value::as_object)
        .filter(|s| !s.is_empty())
        .cloned();
    let Some(selector) = selector else {
        // Endpoints of Services without selectors are the user's.
        return Ok(Action::Done);
    };
    if util::str_at(&service, &["spec", "type"]) == Some("ExternalName") {
        return Ok(Action::Done);
    }
    let pods_rt = ctx.rt("", "pods")?;
    let publish_all = util::at(&service, &["spec", "publishNotReadyAddresses"])
        .and_then(Value::as_bool)
        == Some(true);
    let ports: Vec<Value> = util::at(&service, &["spec", "ports"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Pods grouped by the ports they resolve to.
    let mut groups: BTreeMap<String, (Vec<Value>, Vec<Target>)> = BTreeMap::new();
    for pod in ctx.list(&pods_rt, Some(namespace)) {
        let labels = util::labels(&pod);
        if !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            continue;
        }
        let Some(ip) = util::str_at(&pod, &["status", "podIP"]).filter(|ip| !ip.is_empty()) else {
            continue;
        };
        if matches!(
            util::str_at(&pod, &["status", "phase"]),
            Some("Succeeded" | "Failed")
        ) {
            continue;
        }
        let terminating = object::is_terminating(&pod);
        let ready = !terminating && super::workload::is_ready(&pod);
        let hostname = util::str_at(&pod, &["spec", "hostname"])
            .filter(|h| !h.is_empty() && util::str_at(&pod, &["spec", "subdomain"]) == Some(name))
            .map(str::to_owned);
        let resolved = resolve_ports(&ports, &pod);
        let key = serde_json::to_string(&resolved).unwrap_or_default();
        groups
            .entry(key)
            .or_insert_with(|| (resolved, Vec::new()))
            .1
            .push(Target {
                ip: ip.to_owned(),
                node: util::str_at(&pod, &["spec", "nodeName"]).map(str::to_owned),
                hostname,
                name: util::name(&pod).to_owned(),
                uid: util::uid(&pod).to_owned(),
                ready: ready || (publish_all && !terminating),
                serving: super::workload::is_ready(&pod) || publish_all,
                terminating,
            });
    }
    for (_, targets) in groups.values_mut() {
        targets.sort_by(|a, b| a.ip.cmp(&b.ip).then_with(|| a.name.cmp(&b.name)));
    }
    let headless = util::str_at(&service, &["spec", "clusterIP"]) == Some("None");
    write_endpoints(ctx, &endpoints_rt, &service, &groups, headless)?;
    write_slices(ctx, &service, &groups, headless)?;
    Ok(Action::Done)
}

/// The Service's ports as endpoints list them for `pod`: named target ports resolved
/// against the pod's container ports (ports that do not resolve are left out).
fn resolve_ports(ports: &[Value], pod: &Value) -> Vec<Value> {
    let container_ports: Vec<Value> = util::at(pod, &["spec", "containers"])
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("ports").and_then(Value::as_array))
                .flatten()
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    ports
        .iter()
        .filter_map(|port| {
            let protocol = port
                .get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("TCP");
            let number = match port.get("targetPort") {
                Some(Value::String(named)) => container_ports
                    .iter()
                    .find(|c| c.get("name").and_then(Value::as_str) == Some(named.as_str()))
                    .and_then(|c| c.get("containerPort"))
                    .and_then(Value::as_i64)?,
                Some(Value::Number(n)) => n.as_i64()?,
                _ => port.get("port").and_then(Value::as_i64)?,
            };
            let mut resolved = json!({"port": number, "protocol": protocol});
            if let Some(name) = port
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                resolved["name"] = Value::from(name);
            }
            if let Some(app) = port.get("appProtocol") {
                resolved["appProtocol"] = app.clone();
            }
            Some(resolved)
        })
        .collect()
}

fn labels_for(service: &Value, headless: bool) -> Map<String, Value> {
    let mut labels = util::labels(service);
    if headless {
        labels.insert(HEADLESS.into(), Value::from(""));
    }
    labels
}

fn write_endpoints(
    ctx: &Ctx,
    rt: &ResourceType,
    service: &Value,
    groups: &BTreeMap<String, (Vec<Value>, Vec<Target>)>,
    headless: bool,
) -> Result<(), ControllerError> {
    let namespace = util::str_at(service, &["metadata", "namespace"]).unwrap_or_default();
    let name = util::name(service);
    let mut subsets = Vec::new();
    for (ports, targets) in groups.values() {
        let address = |t: &Target| {
            let mut address = json!({"ip": t.ip, "targetRef": t.reference(namespace)});
            if let Some(node) = &t.node {
                address["nodeName"] = Value::from(node.as_str());
            }
            if let Some(hostname) = &t.hostname {
                address["hostname"] = Value::from(hostname.as_str());
            }
            address
        };
        let ready: Vec<Value> = targets.iter().filter(|t| t.ready).map(address).collect();
        let not_ready: Vec<Value> = targets
            .iter()
            .filter(|t| !t.ready && !t.terminating)
            .map(address)
            .collect();
        if ready.is_empty() && not_ready.is_empty() {
            continue;
        }
        let mut subset = json!({});
        if !ready.is_empty() {
            subset["addresses"] = Value::Array(ready);
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = Value::Array(not_ready);
        }
        if !ports.is_empty() {
            subset["ports"] = Value::Array(ports.clone());
        }
        subsets.push(subset);
    }
    let mut labels = labels_for(service, headless);
    labels.insert(
        "endpoints.kubernetes.io/managed-by".into(),
        Value::from("endpoint-controller"),
    );
    let apply = |object: &mut Value| {
        object::metadata_mut(object).insert("labels".into(), Value::Object(labels.clone()));
        if subsets.is_empty() {
            util::remove_field(object, "subsets");
        } else {
            object["subsets"] = Value::Array(subsets.clone());
        }
    };
    match ctx.get(rt, Some(namespace), name) {
        Some(existing) => {
            let mut wanted = existing.clone();
            apply(&mut wanted);
            if super::normalized(rt, wanted) != existing {
                ctx.update(
                    rt,
                    Some(namespace),
                    name,
                    managers::CONTROLLER_MANAGER,
                    |object| {
                        apply(object);
                        true
                    },
                )?;
            }
        }
        None => {
            let mut object = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": namespace}});
            apply(&mut object);
            match ctx.create(rt, Some(namespace), object, managers::CONTROLLER_MANAGER) {
                Ok(_) => {}
                Err(ControllerError::Create { source, .. }) if source.code == 409 => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(())
}

fn write_slices(
    ctx: &Ctx,
    service: &Value,
    groups: &BTreeMap<String, (Vec<Value>, Vec<Target>)>,
    headless: bool,
) -> Result<(), ControllerError> {
    let rt = ctx.rt("discovery.k8s.io", "endpointslices")?;
    let namespace = util::str_at(service, &["metadata", "namespace"]).unwrap_or_default();
    let name = util::name(service);
    let mut existing: Vec<Value> = ctx
        .list(&rt, Some(namespace))
        .into_iter()
        .filter(|s| {
            util::str_at(s, &["metadata", "labels", SERVICE_NAME]) == Some(name)
                && util::str_at(s, &["metadata", "labels", SLICE_MANAGED_BY])
                    == Some(SLICE_CONTROLLER)
                && !object::is_terminating(s)
        })
        .collect();
    existing.sort_by_key(|s| util::name(s).to_owned());
    let mut wanted: Vec<(Value, Value)> = groups
        .values()
        .map(|(ports, targets)| {
            let endpoints: Vec<Value> = targets
                .iter()
                .map(|t| {
                    let mut endpoint = json!({
                        "addresses": [t.ip],
                        "conditions": {"ready": t.ready, "serving": t.serving, "terminating": t.terminating},
                        "targetRef": t.reference(namespace),
                    });
                    if let Some(node) = &t.node {
                        endpoint["nodeName"] = Value::from(node.as_str());
                    }
                    if let Some(hostname) = &t.hostname {
                        endpoint["hostname"] = Value::from(hostname.as_str());
                    }
                    endpoint
                })
                .collect();
            (Value::Array(endpoints), Value::Array(ports.clone()))
        })
        .collect();
    if wanted.is_empty() {
        // A Service without endpoints keeps one empty slice.
        wanted.push((json!([]), json!([])));
    }
    let mut labels = labels_for(service, headless);
    labels.insert(SERVICE_NAME.into(), Value::from(name));
    labels.insert(SLICE_MANAGED_BY.into(), Value::from(SLICE_CONTROLLER));
    let owner = util::controller_reference(service, "v1", "Service");
    for (index, (endpoints, ports)) in wanted.iter().enumerate() {
        let apply = |object: &mut Value| {
            let meta = object::metadata_mut(object);
            meta.insert("labels".into(), Value::Object(labels.clone()));
            meta.insert("ownerReferences".into(), json!([owner]));
            object["addressType"] = Value::from("IPv4");
            if endpoints.as_array().is_some_and(Vec::is_empty) {
                util::remove_field(object, "endpoints");
            } else {
                object["endpoints"] = endpoints.clone();
            }
            if ports.as_array().is_some_and(Vec::is_empty) {
                util::remove_field(object, "ports");
            } else {
                object["ports"] = ports.clone();
            }
        };
        match existing.get(index) {
            Some(slice) => {
                let mut desired = slice.clone();
                apply(&mut desired);
                if super::normalized(&rt, desired) != *slice {
                    ctx.update(
                        &rt,
                        Some(namespace),
                        util::name(slice),
                        managers::CONTROLLER_MANAGER,
                        |object| {
                            apply(object);
                            true
                        },
                    )?;
                }
            }
            None => {
                let mut object = json!({
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"generateName": format!("{name}-"), "namespace": namespace},
                });
                apply(&mut object);
                ctx.create(&rt, Some(namespace), object, managers::CONTROLLER_MANAGER)?;
            }
        }
    }
    for surplus in existing.iter().skip(wanted.len()) {
        ctx.delete(
            &rt,
            Some(namespace),
            util::name(surplus),
            None,
            Some(util::uid(surplus)),
        )?;
    }
    Ok(())
}

/// Gives a `LoadBalancer` Service an ingress address (stable, derived from its cluster
/// IP, in 172.18.255.0/24) and clears it from other Services.
fn load_balancer(ctx: &Ctx, rt: &ResourceType, service: &Value) -> Result<(), ControllerError> {
    let namespace = util::str_at(service, &["metadata", "namespace"]).unwrap_or_default();
    let status = if util::str_at(service, &["spec", "type"]) == Some("LoadBalancer") {
        let seed =
            util::str_at(service, &["spec", "clusterIP"]).unwrap_or_else(|| util::uid(service));
        let octet = seed
            .bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
            % 250
            + 2;
        json!({"loadBalancer": {"ingress": [{"ip": format!("172.18.255.{octet}"), "ipMode": "VIP"}]}})
    } else {
        json!({"loadBalancer": {}})
    };
    let mut merged = service.get("status").cloned().unwrap_or_else(|| json!({}));
    merged["loadBalancer"] = status["loadBalancer"].clone();
    ctx.write_status(
        rt,
        Some(namespace),
        util::name(service),
        managers::CONTROLLER_MANAGER,
        merged,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_target_ports_resolve_against_container_ports() {
        let pod = json!({"spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]}});
        let ports = [
            json!({"name": "web", "port": 80, "targetPort": "http", "protocol": "TCP"}),
            json!({"name": "metrics", "port": 9090, "targetPort": 9091, "protocol": "TCP"}),
            json!({"name": "missing", "port": 81, "targetPort": "nope", "protocol": "TCP"}),
        ];
        assert_eq!(
            resolve_ports(&ports, &pod),
            vec![
                json!({"name": "web", "port": 8080, "protocol": "TCP"}),
                json!({"name": "metrics", "port": 9091, "protocol": "TCP"}),
            ]
        );
    }
}
