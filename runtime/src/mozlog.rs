//! TODO(owner): module mozlog.
