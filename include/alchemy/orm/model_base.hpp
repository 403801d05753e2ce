// SPDX-License-Identifier: MIT
// File: orm/model_base.hpp
//
// The base every Model<T> shares, whatever T: what a mapper and its field accesses need to
// reach a model object's fields without knowing its class (orm/mapper.hpp, orm/model.hpp).
#ifndef ALCHEMY_ORM_MODEL_BASE_HPP_
#define ALCHEMY_ORM_MODEL_BASE_HPP_

namespace alchemy::orm {

/// The base of every Model<T> that does not depend on T. A field's pointer to member, converted
/// to one of ModelBase (well-defined: ModelBase is a base of the model, whose objects hold the
/// field), is how one field access serves every column of a C++ type (FieldAccessImpl<F>), and
/// how the session reads the common field types without a virtual call (DirectField).
class ModelBase {};

}  // namespace alchemy::orm

#endif  // ALCHEMY_ORM_MODEL_BASE_HPP_
