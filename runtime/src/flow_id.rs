//! TODO(owner): module flow_id.
