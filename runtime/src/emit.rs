//! TODO(owner): module emit.
