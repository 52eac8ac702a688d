"""Handlers of the bot, user and catalogue endpoints: request body in, ``data`` out.

Each handler takes the state, the JSON body and the path parameters, returns the envelope's
``data`` and raises SimError to refuse.
"""

from __future__ import annotations

from typing import Any

from copytrader.sim.haas import catalogue
from copytrader.sim.haas.state import SimState
from copytrader.sim.haas.validation import check_type, invalid, not_found, page_limit, required_str

Body = dict[str, Any]
Params = dict[str, str]


def _page(items: list[Any], token: str | None) -> Body:
    return {"items": items, "nextPageId": token}


def bots_list(state: SimState, body: Body, _: Params) -> Body:
    """POST /bots/list: a page of every bot."""
    ids, token = state.pager.page(state.bot_ids, page_limit(body.get("limit")),
                                  body.get("nextPageId"))
    return _page(state.bots_json(ids), token)


def bots_user(state: SimState, body: Body, _: Params) -> Body:
    """POST /bots/user: a page of one user's bots."""
    user_id = required_str(body, "userId")
    limit = page_limit(body.get("limit"))
    state.user(user_id)  # an unknown user is an error even on a later page
    ids, token = state.pager.page(lambda: state.user_bot_ids(user_id), limit,
                                  body.get("nextPageId"))
    return _page(state.bots_json(ids), token)


def bots_bot(state: SimState, body: Body, _: Params) -> Body:
    """POST /bots/bot: one bot of one user."""
    user_id, bot_id = required_str(body, "userId"), required_str(body, "botId")
    try:
        return state.bot(bot_id, user_id)
    except KeyError:
        raise not_found("bot", bot_id) from None


def bots_create(state: SimState, body: Body, _: Params) -> Body:
    """POST /bots/create: create and start a bot."""
    master = body.get("masterBotId") or ""
    if not isinstance(master, str):
        raise invalid("masterBotId must be a string")
    return state.create_bot(required_str(body, "userId"), check_type(body.get("type")),
                            body.get("settings") or {}, master_bot_id=master)


def bots_edit(state: SimState, body: Body, _: Params) -> bool:
    """POST /bots/edit: change some settings of a bot."""
    user_id = body.get("userId") or None
    state.edit(required_str(body, "botId"), body.get("settings"),
               user_id if isinstance(user_id, str) else None)
    return True


def bots_clone(state: SimState, body: Body, _: Params) -> Body:
    """POST /bots/clone: copy a bot for another user on the same exchange."""
    follow = body.get("followUpdates")
    if not isinstance(follow, bool):
        raise invalid("followUpdates is required (true or false)")
    return state.clone(required_str(body, "userId"), required_str(body, "botId"), follow,
                       body.get("settings"))


def bots_start(state: SimState, body: Body, _: Params) -> bool:
    """POST /bots/start."""
    state.start(required_str(body, "botId"))
    return True


def bots_stop(state: SimState, body: Body, _: Params) -> bool:
    """POST /bots/stop."""
    state.stop(required_str(body, "botId"))
    return True


def bots_delete(state: SimState, body: Body, _: Params) -> bool:
    """POST /bots/delete."""
    state.delete(required_str(body, "botId"))
    return True


def exchanges(state: SimState, body: Body, _: Params) -> list[Body]:
    """GET /exchanges."""
    return [dict(e) for e in catalogue.EXCHANGES]


def markets(state: SimState, body: Body, _: Params) -> list[Body]:
    """GET /markets."""
    return [dict(m) for m in catalogue.MARKETS]


def scripts(state: SimState, body: Body, _: Params) -> list[Body]:
    """GET /scripts: the whole catalogue."""
    return catalogue.scripts()


def scripts_script(state: SimState, body: Body, _: Params) -> Body:
    """POST /scripts/script: one script by type."""
    found = catalogue.script(check_type(body.get("type")))
    assert found is not None
    return found


def users_list(state: SimState, body: Body, _: Params) -> Body:
    """POST /users/list: a page of users."""
    ids, token = state.pager.page(state.user_ids, page_limit(body.get("limit")),
                                  body.get("nextPageId"))
    users = []
    for user_id in ids:
        try:
            users.append(state.user(user_id))
        except ValueError:  # deleted since the listing began
            continue
    return _page(users, token)


def users_user(state: SimState, body: Body, _: Params) -> Body:
    """POST /users/user."""
    return state.user(required_str(body, "userId"))


def _optional_str(body: Body, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{key} must be a string")
    return value or None


def users_create(state: SimState, body: Body, _: Params) -> str:
    """POST /users/create: returns the new userId (the keys are stored, never returned)."""
    return state.create_user(
        required_str(body, "exchangeId"),
        public_key=required_str(body, "publicKey"),
        secret_key=required_str(body, "secretKey"),
        extra_key=_optional_str(body, "extraKey"),
        exchange_user_id=_optional_str(body, "exchangeUserId"),
    )


def users_delete(state: SimState, body: Body, _: Params) -> bool:
    """POST /users/delete: refused while the user has bots."""
    state.delete_user(required_str(body, "userId"))
    return True
