//! Service defaults and address allocation, done by kube-apiserver when a Service is
//! written: `type`, `sessionAffinity`, IP family fields and port defaults; a cluster IP
//! from 10.96.0.0/16 (kept for the Service's life, free again once it is deleted; headless
//! `None` kept as is; none for `ExternalName`); node ports from 30000-32767 for `NodePort`
//! and `LoadBalancer` Services. Addresses in use are read from the stored Services.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use rand::Rng;
use serde_json::{Value, json};

use super::util;
use crate::backend::Backend;
use crate::errors::{ApiError, Cause};
use crate::resources::ResourceType;

/// The service network, 10.96.0.0/16.
const SERVICE_NETWORK: u32 = u32::from_be_bytes([10, 96, 0, 0]);
const SERVICE_NETWORK_BITS: u32 = 16;
/// The service network as kube-apiserver names it in messages.
const SERVICE_RANGE: &str = "10.96.0.0/16";
/// Node ports.
const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

/// Whether a Service of this type gets a cluster IP.
fn needs_cluster_ip(service: &Value) -> bool {
    util::str_at(service, &["spec", "type"]) != Some("ExternalName")
}

/// Whether a Service of this type gets node ports.
fn needs_node_ports(service: &Value) -> bool {
    matches!(
        util::str_at(service, &["spec", "type"]),
        Some("NodePort" | "LoadBalancer")
    )
}

/// The cluster IPs and node ports of every stored Service but `except` (its key).
fn in_use(
    backend: &Backend,
    rt: &ResourceType,
    except: Option<&str>,
) -> (HashSet<Ipv4Addr>, HashSet<i64>) {
    let mut ips = HashSet::new();
    let mut ports = HashSet::new();
    let Ok(page) = backend.store.list(&rt.key_prefix(None), None, None, 0) else {
        return (ips, ports);
    };
    for (key, entry) in &page.items {
        if except == Some(&**key) {
            continue;
        }
        let Ok(service) = serde_json::from_slice::<Value>(&entry.value) else {
            continue;
        };
        if let Some(list) = util::at(&service, &["spec", "clusterIPs"]).and_then(Value::as_array) {
            ips.extend(
                list.iter()
                    .filter_map(|ip| ip.as_str()?.parse::<Ipv4Addr>().ok()),
            );
        }
        if let Some(list) = util::at(&service, &["spec", "ports"]).and_then(Value::as_array) {
            ports.extend(list.iter().filter_map(|p| p.get("nodePort")?.as_i64()));
        }
    }
    (ips, ports)
}

/// Whether `ip` is in the service network (network and broadcast addresses excluded).
fn in_range(ip: Ipv4Addr) -> bool {
    let value = u32::from(ip);
    let size = 1u32 << (32 - SERVICE_NETWORK_BITS);
    value > SERVICE_NETWORK && value < SERVICE_NETWORK + size - 1
}

/// A free address of the service network. Like kube-apiserver, dynamic allocation picks
/// at random from the upper part of the range, leaving the lowest addresses (10.96.0.1 is
/// the `kubernetes` Service's) to those who ask for them.
fn allocate_ip(used: &HashSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let size = 1u32 << (32 - SERVICE_NETWORK_BITS);
    let reserved = (size / 16).clamp(16, 256);
    let mut rng = rand::rng();
    for _ in 0..64 {
        let ip = Ipv4Addr::from(SERVICE_NETWORK + rng.random_range(reserved..size - 1));
        if !used.contains(&ip) {
            return Some(ip);
        }
    }
    (2..size - 1)
        .map(|offset| Ipv4Addr::from(SERVICE_NETWORK + offset))
        .find(|ip| !used.contains(ip))
}

/// A free node port.
fn allocate_port(used: &HashSet<i64>) -> Option<i64> {
    let mut rng = rand::rng();
    for _ in 0..64 {
        let port = rng.random_range(NODE_PORTS);
        if !used.contains(&port) {
            return Some(port);
        }
    }
    NODE_PORTS.clone().find(|p| !used.contains(p))
}

/// Fills in the defaults of a Service's spec (idempotent).
fn default_spec(service: &mut Value) {
    let Some(spec) = service.get_mut("spec").filter(|s| s.is_object()) else {
        service["spec"] = json!({"type": "ClusterIP", "sessionAffinity": "None"});
        return;
    };
    let set_default = |spec: &mut Value, field: &str, value: Value| {
        if spec.get(field).is_none_or(Value::is_null) {
            spec[field] = value;
        }
    };
    set_default(spec, "type", json!("ClusterIP"));
    set_default(spec, "sessionAffinity", json!("None"));
    let type_ = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_owned();
    if type_ != "ExternalName" {
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if type_ == "NodePort" || type_ == "LoadBalancer" {
        set_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if type_ == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for port in ports {
            if port.get("protocol").is_none_or(Value::is_null) {
                port["protocol"] = json!("TCP");
            }
            if port.get("targetPort").is_none_or(Value::is_null)
                && let Some(number) = port.get("port").cloned()
            {
                port["targetPort"] = number;
            }
        }
    }
}

/// 422 for a Service.
fn invalid(rt: &ResourceType, service: &Value, causes: Vec<Cause>) -> ApiError {
    ApiError::invalid(&rt.kind, &rt.group, util::name(service), causes)
}

/// Sets the address fields once the cluster IP is known.
fn set_addresses(service: &mut Value, ip: &str) {
    service["spec"]["clusterIP"] = Value::from(ip);
    service["spec"]["clusterIPs"] = json!([ip]);
    service["spec"]["ipFamilies"] = json!(["IPv4"]);
    service["spec"]["ipFamilyPolicy"] = json!("SingleStack");
}

/// Removes the address fields (an `ExternalName` Service has none).
fn clear_addresses(service: &mut Value) {
    if let Some(spec) = service.get_mut("spec").and_then(Value::as_object_mut) {
        for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            spec.remove(field);
        }
    }
}

/// The cluster IP a Service asks for: `spec.clusterIP`, else `spec.clusterIPs[0]`.
fn requested_ip(service: &Value) -> Option<String> {
    util::str_at(service, &["spec", "clusterIP"])
        .filter(|ip| !ip.is_empty())
        .or_else(|| {
            util::at(service, &["spec", "clusterIPs"])
                .and_then(Value::as_array)
                .and_then(|list| list.first())
                .and_then(Value::as_str)
                .filter(|ip| !ip.is_empty())
        })
        .map(str::to_owned)
}

/// Gives a Service its cluster IP (unless headless) and node ports.
fn allocate(
    backend: &Backend,
    rt: &ResourceType,
    service: &mut Value,
    except: Option<&str>,
) -> Result<(), ApiError> {
    let (used_ips, used_ports) = in_use(backend, rt, except);
    if needs_cluster_ip(service) {
        match requested_ip(service) {
            Some(none) if none == "None" => {
                service["spec"]["clusterIP"] = json!("None");
                service["spec"]["clusterIPs"] = json!(["None"]);
                service["spec"]["ipFamilies"] = json!(["IPv4"]);
                service["spec"]["ipFamilyPolicy"] = json!("SingleStack");
            }
            Some(text) => {
                let detail = |reason: &str| {
                    Cause::new(
                        "FieldValueInvalid",
                        "spec.clusterIPs",
                        &format!(
                            "Invalid value: []string{{{text:?}}}: failed to allocate IP {text}: {reason}"
                        ),
                    )
                };
                let ip: Ipv4Addr = text.parse().map_err(|_| {
                    invalid(
                        rt,
                        service,
                        vec![Cause::new(
                            "FieldValueInvalid",
                            "spec.clusterIPs[0]",
                            &format!("Invalid value: {text:?}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
                        )],
                    )
                })?;
                if !in_range(ip) {
                    return Err(invalid(
                        rt,
                        service,
                        vec![detail(&format!(
                            "the provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_RANGE}"
                        ))],
                    ));
                }
                if used_ips.contains(&ip) {
                    return Err(invalid(
                        rt,
                        service,
                        vec![detail("provided IP is already allocated")],
                    ));
                }
                set_addresses(service, &text);
            }
            None => {
                let ip = allocate_ip(&used_ips).ok_or_else(|| {
                    ApiError::internal("failed to allocate a serviceIP: range is full")
                })?;
                set_addresses(service, &ip.to_string());
            }
        }
    } else {
        clear_addresses(service);
    }
    let node_ports = needs_node_ports(service);
    let mut taken = used_ports;
    let mut causes = Vec::new();
    if let Some(ports) = service
        .get_mut("spec")
        .and_then(|s| s.get_mut("ports"))
        .and_then(Value::as_array_mut)
    {
        for (index, port) in ports.iter_mut().enumerate() {
            if !node_ports {
                if let Some(fields) = port.as_object_mut() {
                    fields.remove("nodePort");
                }
                continue;
            }
            match port
                .get("nodePort")
                .and_then(Value::as_i64)
                .filter(|p| *p != 0)
            {
                Some(requested) => {
                    if !NODE_PORTS.contains(&requested) {
                        causes.push(Cause::new(
                            "FieldValueInvalid",
                            &format!("spec.ports[{index}].nodePort"),
                            &format!("Invalid value: {requested}: provided port is not in the valid range. The range of valid ports is 30000-32767"),
                        ));
                    } else if !taken.insert(requested) {
                        causes.push(Cause::new(
                            "FieldValueInvalid",
                            &format!("spec.ports[{index}].nodePort"),
                            &format!(
                                "Invalid value: {requested}: provided port is already allocated"
                            ),
                        ));
                    }
                }
                None => {
                    let Some(free) = allocate_port(&taken) else {
                        return Err(ApiError::internal(
                            "failed to allocate a nodePort: range is full",
                        ));
                    };
                    taken.insert(free);
                    port["nodePort"] = Value::from(free);
                }
            }
        }
    }
    if !causes.is_empty() {
        return Err(invalid(rt, service, causes));
    }
    Ok(())
}

/// Defaults a new Service and allocates its addresses.
///
/// # Errors
/// 422 for a requested address that is out of range or taken.
pub fn prepare_create(
    backend: &Backend,
    rt: &ResourceType,
    service: &mut Value,
) -> Result<(), ApiError> {
    default_spec(service);
    allocate(backend, rt, service, None)?;
    service["status"] = json!({"loadBalancer": {}});
    Ok(())
}

/// Keeps a Service's addresses across updates: omitted ones are carried over, changed
/// ones refused, and a change of type allocates or releases them.
///
/// # Errors
/// 422 when the cluster IP is changed.
pub fn prepare_update(
    backend: &Backend,
    rt: &ResourceType,
    old: &Value,
    new: &mut Value,
) -> Result<(), ApiError> {
    default_spec(new);
    let key = rt.key(
        util::str_at(old, &["metadata", "namespace"]),
        util::name(old),
    );
    if needs_cluster_ip(old) && needs_cluster_ip(new) {
        let old_ip = requested_ip(old);
        match (old_ip, requested_ip(new)) {
            (Some(old_ip), None) => {
                // patchAllocatedValues: a client that leaves the IP out keeps it.
                for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
                    if let Some(value) = util::at(old, &["spec", field]) {
                        new["spec"][field] = value.clone();
                    }
                }
                let _ = old_ip;
            }
            (Some(old_ip), Some(new_ip)) if old_ip != new_ip => {
                return Err(invalid(
                    rt,
                    new,
                    vec![Cause::new(
                        "FieldValueInvalid",
                        "spec.clusterIPs[0]",
                        &format!("Invalid value: []string{{{new_ip:?}}}: may not change once set"),
                    )],
                ));
            }
            _ => {}
        }
    }
    // Node ports a client leaves out are kept for the same port.
    if needs_node_ports(old) && needs_node_ports(new) {
        let old_ports: Vec<Value> = util::at(old, &["spec", "ports"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(ports) = new
            .get_mut("spec")
            .and_then(|s| s.get_mut("ports"))
            .and_then(Value::as_array_mut)
        {
            for port in ports {
                if port
                    .get("nodePort")
                    .and_then(Value::as_i64)
                    .is_some_and(|p| p != 0)
                {
                    continue;
                }
                let same = old_ports.iter().find(|o| {
                    o.get("port") == port.get("port") && o.get("protocol") == port.get("protocol")
                });
                if let Some(node_port) = same.and_then(|o| o.get("nodePort")) {
                    port["nodePort"] = node_port.clone();
                }
            }
        }
    }
    allocate(backend, rt, new, Some(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_cluster_ips_come_from_the_upper_part_of_the_range() {
        let mut used = HashSet::new();
        for _ in 0..200 {
            let ip = allocate_ip(&used).unwrap();
            assert!(in_range(ip), "{ip}");
            assert!(u32::from(ip) >= SERVICE_NETWORK + 256, "{ip}");
            assert!(used.insert(ip), "{ip} twice");
        }
    }

    #[test]
    fn the_range_excludes_network_and_broadcast_addresses() {
        assert!(!in_range(Ipv4Addr::new(10, 96, 0, 0)));
        assert!(in_range(Ipv4Addr::new(10, 96, 0, 1)));
        assert!(in_range(Ipv4Addr::new(10, 96, 255, 254)));
        assert!(!in_range(Ipv4Addr::new(10, 96, 255, 255)));
        assert!(!in_range(Ipv4Addr::new(10, 97, 0, 1)));
    }

    #[test]
    fn service_defaults_fill_ports_and_policies() {
        let mut service = json!({"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
        default_spec(&mut service);
        assert_eq!(service["spec"]["type"], "ClusterIP");
        assert_eq!(service["spec"]["sessionAffinity"], "None");
        assert_eq!(service["spec"]["internalTrafficPolicy"], "Cluster");
        assert_eq!(
            service["spec"]["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
    }

    #[test]
    fn node_ports_are_allocated_in_their_range() {
        let mut used = HashSet::new();
        for _ in 0..100 {
            let port = allocate_port(&used).unwrap();
            assert!(NODE_PORTS.contains(&port));
            assert!(used.insert(port));
        }
    }
}
