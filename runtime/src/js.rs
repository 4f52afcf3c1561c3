//! TODO(owner): module js.
