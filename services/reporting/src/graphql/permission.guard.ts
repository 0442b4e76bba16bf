import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { ERROR_CODES, apiError } from './api-errors.js';
import type { ApiContext } from './auth.js';
import { ROLE_PERMISSIONS, allows, type Permission } from './permissions.js';

const PERMISSION_KEY = 'vigil:graphql-permission';

/**
 * The permission a root field needs; one without is refused (deny by default). Field resolvers of object types
 * run under their root field's check (Nest applies guards to root fields only, the default).
 */
export const Requires = (permission: Permission) => SetMetadata(PERMISSION_KEY, permission);

@Injectable()
export class PermissionGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(execution: ExecutionContext): boolean {
    const needed = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_KEY, [
      execution.getHandler(),
      execution.getClass(),
    ]);
    const context = GqlExecutionContext.create(execution).getContext<ApiContext>();
    const principal = context.principal;
    if (!needed) throw apiError(ERROR_CODES.forbidden, 'this operation has no permission declared');
    if (!allows(principal, needed)) {
      const roles = Object.entries(ROLE_PERMISSIONS)
        .filter(([, p]) => p.includes(needed))
        .map(([r]) => r);
      throw apiError(
        ERROR_CODES.forbidden,
        `role ${principal.role} may not ${needed} (needs one of: ${roles.join(', ')})`,
        { permission: needed },
      );
    }
    return true;
  }
}
