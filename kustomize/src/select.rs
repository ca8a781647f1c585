//! Choosing resources: patch targets and replacement selectors (regular expressions on
//! group, version, kind, name and namespace; Kubernetes label and annotation selectors).

use regex::Regex;

use crate::kustomization::Selector;
use crate::resource::Resource;

/// A compiled selector.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

fn anchored(pattern: &str) -> Result<Option<Regex>, String> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{pattern})$"))
        .map(Some)
        .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))
}

impl Matcher {
    pub(crate) fn new(s: &Selector) -> Result<Matcher, String> {
        Ok(Matcher {
            group: anchored(&s.group)?,
            version: anchored(&s.version)?,
            kind: anchored(&s.kind)?,
            name: anchored(&s.name)?,
            namespace: anchored(&s.namespace)?,
            labels: if s.label_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.label_selector)?)
            },
            annotations: if s.annotation_selector.is_empty() {
                None
            } else {
                Some(LabelSelector::parse(&s.annotation_selector)?)
            },
        })
    }

    /// kustomize's `ResMap.Select`: names and namespaces match the original or the current
    /// id; the GVK, labels and annotations the current object.
    pub(crate) fn matches(&self, r: &Resource) -> bool {
        let cur = r.cur_id();
        let org = r.org_id();
        let re = |re: &Option<Regex>, s: &str| re.as_ref().is_none_or(|re| re.is_match(s));
        if !re(&self.namespace, org.effective_namespace())
            && !re(&self.namespace, cur.effective_namespace())
        {
            return false;
        }
        if !re(&self.name, &org.name) && !re(&self.name, &cur.name) {
            return false;
        }
        let gvk = r.gvk();
        if !re(&self.group, &gvk.group)
            || !re(&self.version, &gvk.version)
            || !re(&self.kind, &gvk.kind)
        {
            return false;
        }
        if let Some(sel) = &self.labels
            && !sel.matches(&r.string_map("labels"))
        {
            return false;
        }
        if let Some(sel) = &self.annotations
            && !sel.matches(&r.string_map("annotations"))
        {
            return false;
        }
        true
    }
}

/// A Kubernetes label selector: `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl LabelSelector {
    pub(crate) fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        // Split on commas outside parentheses.
        let mut parts = Vec::new();
        let mut depth = 0;
        let mut cur = String::new();
        for c in text.chars() {
            match c {
                '(' => {
                    depth += 1;
                    cur.push(c);
                }
                ')' => {
                    depth -= 1;
                    cur.push(c);
                }
                ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        parts.push(cur);
        for part in parts {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("invalid label selector {text:?}"));
            }
            let req = if let Some(key) = part.strip_prefix('!') {
                Requirement::NotExists(key.trim().to_owned())
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotIn(k.trim().to_owned(), vec![v.trim().to_owned()])
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement::In(k.trim().to_owned(), vec![v.trim().to_owned()])
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement::In(k.trim().to_owned(), vec![v.trim().to_owned()])
            } else if let Some((k, rest)) = split_word(part, " notin ") {
                Requirement::NotIn(k, set_values(rest, text)?)
            } else if let Some((k, rest)) = split_word(part, " in ") {
                Requirement::In(k, set_values(rest, text)?)
            } else {
                Requirement::Exists(part.to_owned())
            };
            requirements.push(req);
        }
        Ok(LabelSelector { requirements })
    }

    pub(crate) fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| {
            labels
                .iter()
                .find(|(lk, _)| lk == k)
                .map(|(_, v)| v.as_str())
        };
        self.requirements.iter().all(|req| match req {
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

fn split_word(part: &str, word: &str) -> Option<(String, String)> {
    let idx = part.find(word)?;
    Some((
        part[..idx].trim().to_owned(),
        part[idx + word.len()..].trim().to_owned(),
    ))
}

fn set_values(rest: String, text: &str) -> Result<Vec<String>, String> {
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("invalid label selector {text:?}"))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn label_selectors_follow_kubernetes_syntax() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app in (web, api)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("missing!=x", true),
            ("app=web,tier=back", false),
        ];
        for (sel, want) in cases {
            let parsed = LabelSelector::parse(sel).expect(sel);
            assert_eq!(parsed.matches(&l), want, "{sel}");
        }
    }
}
