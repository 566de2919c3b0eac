//! Finding the result object in an agent's text.
//!
//! The prompt asks for one JSON object in a fenced `json` code block at the
//! end of the reply. Models and programs do not always comply exactly, so
//! this accepts, in order of preference: the last fenced block tagged
//! `json` that parses as an object, the whole text when it is one object,
//! the last line that is one object, and finally the last balanced `{...}`
//! in the text that parses as an object.

use serde_json::Value;

/// The result object in `text`, or why none was found (in words fed back to
/// the agent).
pub fn extract_result(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(
            "the reply was empty; return the result as one JSON object in a ```json code block"
                .into(),
        );
    }
    let mut fenced_error = None;
    for block in fenced_blocks(text).into_iter().rev() {
        match serde_json::from_str::<Value>(block.trim()) {
            Ok(value @ Value::Object(_)) => return Ok(value),
            Ok(_) => fenced_error
                .get_or_insert_with(|| "the ```json block does not hold a JSON object".to_string()),
            Err(e) => fenced_error
                .get_or_insert_with(|| format!("the ```json block is not valid JSON: {e}")),
        };
    }
    if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(trimmed) {
        return Ok(value);
    }
    if let Some(error) = fenced_error {
        return Err(error);
    }
    for line in trimmed.lines().rev() {
        let line = line.trim();
        if line.starts_with('{')
            && let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(line)
        {
            return Ok(value);
        }
    }
    if let Some(value) = last_balanced_object(trimmed) {
        return Ok(value);
    }
    Err("the reply holds no JSON object; end it with the result as one JSON object in a ```json code block".into())
}

/// The contents of the code blocks fenced with ```json (or ```JSON).
fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let Some(line_end) = after.find('\n') else {
            break;
        };
        let tag = after[..line_end].trim();
        let body = &after[line_end + 1..];
        let Some(close) = body.find("```") else { break };
        if tag.eq_ignore_ascii_case("json") {
            blocks.push(&body[..close]);
        }
        rest = &body[close + 3..];
    }
    blocks
}

/// The last `{` … `}` span that parses as a JSON object, scanning back from
/// the end (bounded: a few hundred candidate openings at most).
fn last_balanced_object(text: &str) -> Option<Value> {
    let end = text.rfind('}')?;
    let head = &text[..=end];
    head.match_indices('{')
        .rev()
        .take(256)
        .find_map(
            |(start, _)| match serde_json::from_str::<Value>(&head[start..]) {
                Ok(value @ Value::Object(_)) => Some(value),
                _ => None,
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefers_the_last_fenced_json_block() {
        let text = "Here:\n```json\n{\"a\": 1}\n```\nand finally\n```json\n{\"a\": 2}\n```\n";
        assert_eq!(extract_result(text).unwrap(), json!({"a": 2}));
    }

    #[test]
    fn accepts_bare_objects_and_trailing_lines() {
        assert_eq!(
            extract_result(" {\"x\": true} ").unwrap(),
            json!({"x": true})
        );
        assert_eq!(
            extract_result("log line\n{\"x\": 1}\n").unwrap(),
            json!({"x": 1})
        );
        assert_eq!(
            extract_result("The answer is {\"x\": [1, 2]}.").unwrap(),
            json!({"x": [1, 2]})
        );
    }

    #[test]
    fn explains_what_is_wrong() {
        assert!(extract_result("").unwrap_err().contains("empty"));
        assert!(
            extract_result("no json here")
                .unwrap_err()
                .contains("no JSON object")
        );
        let broken = "```json\n{\"a\": \n```";
        assert!(
            extract_result(broken)
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(
            extract_result("```json\n[1]\n```")
                .unwrap_err()
                .contains("not hold a JSON object")
        );
    }

    #[test]
    fn ignores_other_fences() {
        let text = "```sh\n{\"not\": \"this\"}\n```\n```json\n{\"this\": 1}\n```";
        assert_eq!(extract_result(text).unwrap(), json!({"this": 1}));
    }
}
