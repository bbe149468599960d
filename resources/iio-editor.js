/*
 * node-red-contrib-iio: the editor helpers every IIO node's dialog shares (device discovery through
 * the admin endpoints, the dropdown-with-free-text widget, the channel checklist, the buffer form,
 * small validators). Node-RED serves this file from the package's resources/ folder; each
 * nodes/*.html loads it with <script src="resources/node-red-contrib-iio/iio-editor.js"> before its
 * own script, so window.nodeRedContribIio exists when the node types register. Loaded once per
 * node set: the second and later loads return at once.
 */
(function () {
    "use strict";
    if (window.nodeRedContribIio) {
        return;
    }


    var OTHER = "\u0000other";
    var CACHE_MS = 3000;
    var cache = {};

    /** Translates a shared string from this file's catalog (namespace node-red-contrib-iio/iio-device). */
    function t(key, subs) {
        var def = RED.nodes.getType("iio-device");
        if (def && typeof def._ === "function") {
            return def._("iio-device." + key, subs);
        }
        return key;
    }

    /** GETs an admin endpoint; resolves to the parsed body, or null when it is unavailable. */
    function getJSON(url) {
        var now = Date.now();
        var hit = cache[url];
        if (hit && now - hit.time < CACHE_MS) {
            return hit.promise;
        }
        var promise = new Promise(function (resolve) {
            $.ajax({ url: url, dataType: "json", cache: false, timeout: 10000 })
                .done(function (data) { resolve(data); })
                .fail(function () { resolve(null); });
        });
        cache[url] = { time: now, promise: promise };
        return promise;
    }

    /** The query naming a board's iiod ("?uri=ip:…"), or "" for this host. */
    function uriQuery(uri) {
        return uri && uri !== "local:" ? "?uri=" + encodeURIComponent(uri) : "";
    }

    /** The host of an iio-device config node ("local:" when none or unset). */
    function configUri(configId) {
        var c = configId && configId !== "_ADD_" ? RED.nodes.node(configId) : null;
        return (c && c.uri) || "local:";
    }

    function getDevices(uri) {
        return getJSON("iio/devices" + uriQuery(uri)).then(function (d) { return Array.isArray(d) ? d : null; });
    }

    function getTriggers(uri) {
        return getJSON("iio/triggers" + uriQuery(uri)).then(function (d) { return Array.isArray(d) ? d : null; });
    }

    /** The selection fields of an iio-device config node, or null when none is selected. */
    function deviceConfig(configId) {
        if (!configId || configId === "_ADD_") {
            return null;
        }
        var c = RED.nodes.node(configId);
        if (!c) {
            return null;
        }
        return {
            deviceName: c.deviceName || "",
            deviceLabel: c.deviceLabel || "",
            deviceId: c.deviceId || "",
            uri: c.uri || "local:"
        };
    }

    /**
     * All devices matching a selection: by name and label (each must match when given), else by
     * id. With several name/label matches the id, when given, picks one.
     */
    function matchDevices(devices, cfg) {
        if (!devices || !cfg) {
            return [];
        }
        if (cfg.deviceName || cfg.deviceLabel) {
            var m = devices.filter(function (d) {
                return (!cfg.deviceName || d.name === cfg.deviceName) &&
                    (!cfg.deviceLabel || d.label === cfg.deviceLabel);
            });
            if (m.length > 1 && cfg.deviceId) {
                var byId = m.filter(function (d) { return d.id === cfg.deviceId; });
                if (byId.length) {
                    return byId;
                }
            }
            return m;
        }
        if (cfg.deviceId) {
            return devices.filter(function (d) { return d.id === cfg.deviceId; });
        }
        return [];
    }

    function matchDevice(devices, cfg) {
        return matchDevices(devices, cfg)[0] || null;
    }

    /** "emu-adc (adc-main) at iio:device1" */
    function describeDevice(d) {
        return (d.name || "?") + (d.label ? " (" + d.label + ")" : "") + " — " + d.id + (d.error ? " — " + d.error.code + ": " + d.error.message : "");
    }

    function describeConfig(cfg) {
        var parts = [];
        if (cfg.deviceName) { parts.push("name " + cfg.deviceName); }
        if (cfg.deviceLabel) { parts.push("label " + cfg.deviceLabel); }
        if (cfg.deviceId) { parts.push("id " + cfg.deviceId); }
        return parts.join(", ");
    }

    /** The name of the trigger an iio-trigger node provides: a hrtimer's own name, or sysfstrigN. */
    function triggerNameOf(kind, triggerName, sysfsId) {
        return kind === "sysfs" ? "sysfstrig" + (str(sysfsId) || "0") : str(triggerName);
    }

    /** Trigger names provided by iio-trigger nodes in the workspace. */
    function workspaceTriggerNames() {
        var names = [];
        RED.nodes.eachNode(function (n) {
            if (n.type !== "iio-trigger") {
                return;
            }
            var name = triggerNameOf(n.kind, n.triggerName, n.sysfsId);
            if (name && names.indexOf(name) === -1) {
                names.push(name);
            }
        });
        return names;
    }

    /** Dropdown options for a trigger: the kernel's triggers, then the iio-trigger nodes' triggers. */
    function triggerOptions(triggers) {
        var list = [];
        var seen = {};
        (triggers || []).forEach(function (tr) {
            if (tr && tr.name && !seen[tr.name]) {
                seen[tr.name] = true;
                list.push({ value: tr.name, label: tr.name + (tr.id ? "  (" + tr.id + ")" : "") });
            }
        });
        workspaceTriggerNames().forEach(function (name) {
            if (!seen[name]) {
                seen[name] = true;
                list.push({ value: name, label: name + "  (" + t("shared.triggerNode") + ")" });
            }
        });
        return list;
    }

    /**
     * Turns a text input (which keeps holding the property value) into a dropdown with an
     * "other…" entry that shows the text input for free entry. setOptions(null) leaves the text
     * input alone (no list known). The stored value is never changed by a new option list.
     */
    function Combo(input, opts) {
        var self = this;
        this.input = input;
        this.opts = opts || {};
        this.select = $('<select class="iio-combo-select"></select>').attr("id", input.attr("id") + "-choice").insertBefore(input);
        input.addClass("iio-combo-input");
        this.select.on("change", function () {
            var v = self.select.val();
            if (v === OTHER) {
                self._showInput(true);
                input.trigger("focus");
            } else {
                self._showInput(false);
                if (input.val() !== v) {
                    input.val(v);
                }
                input.trigger("change");
            }
            self._syncError();
        });
        input.on("change keyup", function () { self._syncError(); });
        this.setOptions(null);
    }

    Combo.prototype._showInput = function (on) {
        if (on) {
            this.select.css("width", "calc(30% - 4px)");
            this.input.css({ width: "40%", "margin-left": "4px" }).show();
        } else {
            this.select.css("width", "70%");
            this.input.hide();
        }
    };

    Combo.prototype._syncError = function () {
        this.select.toggleClass("input-error", this.input.hasClass("input-error"));
    };

    /**
     * list: [{value, label}] or null; emptyLabel: the label of the value "" (an "any"/"keep"
     * choice), or undefined when "" only means "not chosen yet".
     */
    Combo.prototype.setOptions = function (list, emptyLabel) {
        var select = this.select;
        var current = this.input.val();
        current = current === undefined || current === null ? "" : String(current);
        // A refresh (a late device or trigger list) keeps a user who chose "other…" typing.
        var typing = select.children().length > 0 && select.val() === OTHER;
        select.empty();
        if (!list) {
            select.hide();
            this.input.css({ width: "70%", "margin-left": "" }).show();
            return;
        }
        select.show();
        var found = false;
        if (emptyLabel !== undefined || current === "") {
            $("<option></option>").val("").text(emptyLabel !== undefined ? emptyLabel : t("shared.select")).appendTo(select);
            found = current === "";
        }
        list.forEach(function (o) {
            $("<option></option>").val(String(o.value)).text(o.label !== undefined ? o.label : String(o.value)).appendTo(select);
            if (String(o.value) === current) {
                found = true;
            }
        });
        $("<option></option>").val(OTHER).text(t("shared.other")).appendTo(select);
        if (found && !(typing && current === "")) {
            select.val(current);
            this._showInput(false);
        } else {
            select.val(OTHER);
            this._showInput(true);
        }
        this._syncError();
    };

    /** Sets the value (and the dropdown when the value is one of its options). */
    Combo.prototype.value = function (v) {
        if (v === undefined) {
            return this.input.val();
        }
        this.input.val(v);
        if (this.select.is(":visible") || this.select.children().length) {
            var has = this.select.find("option").filter(function () { return $(this).val() === String(v); }).length > 0;
            this.select.val(has ? String(v) : OTHER);
            this._showInput(!has);
        }
        this.input.trigger("change");
    };

    /**
     * A checkbox list for an array of channel ids. render(null) shows a comma-separated text
     * field instead (no channel list known). Ticked channels that the device does not list are
     * kept and shown so that the user can untick them.
     */
    function ChannelList(container, selected) {
        this.container = container;
        this.selected = Array.isArray(selected) ? selected.slice() : [];
        this.mode = null;
        this.container.addClass("iio-channel-list-container");
    }

    ChannelList.prototype.get = function () {
        if (this.mode === "text") {
            var text = this.container.find("input.iio-channel-text").val() || "";
            return text.split(/[\s,]+/).filter(function (s) { return s.length > 0; });
        }
        if (this.mode === "list") {
            var out = [];
            this.container.find("input.iio-channel-cb:checked").each(function () {
                out.push($(this).val());
            });
            return out;
        }
        return this.selected.slice();
    };

    /** available: [{id, info}] or null. */
    ChannelList.prototype.render = function (available) {
        var self = this;
        this.selected = this.get();
        var c = this.container;
        c.empty();
        if (!available) {
            this.mode = "text";
            $('<input type="text" class="iio-channel-text">')
                .attr("placeholder", t("shared.channelsText"))
                .val(this.selected.join(", "))
                .appendTo(c);
            return;
        }
        this.mode = "list";
        var box = $('<div class="iio-channel-list"></div>').appendTo(c);
        var ids = available.map(function (ch) { return ch.id; });
        function add(id, info, missing) {
            var row = $('<label class="iio-channel-row"></label>').appendTo(box);
            $('<input type="checkbox" class="iio-channel-cb">').val(id)
                .prop("checked", self.selected.indexOf(id) !== -1).appendTo(row);
            $("<span></span>").text(" " + id).appendTo(row);
            if (info) {
                $('<span class="iio-channel-info"></span>').text(" " + info).appendTo(row);
            }
            if (missing) {
                row.addClass("iio-channel-missing");
                $('<span class="iio-channel-info"></span>').text(" (" + t("shared.notOnDevice") + ")").appendTo(row);
            }
        }
        available.forEach(function (ch) { add(ch.id, ch.info, false); });
        this.selected.forEach(function (id) {
            if (ids.indexOf(id) === -1) {
                add(id, "", true);
            }
        });
        var tools = $('<div class="iio-channel-tools"></div>').appendTo(c);
        $('<span class="iio-channel-hint"></span>').text(t("shared.allChannels") + " ").appendTo(tools);
        $('<a href="#"></a>').text(t("shared.selectAll")).on("click", function (e) {
            e.preventDefault();
            box.find("input.iio-channel-cb").prop("checked", true);
        }).appendTo(tools);
        $("<span> | </span>").appendTo(tools);
        $('<a href="#"></a>').text(t("shared.selectNone")).on("click", function (e) {
            e.preventDefault();
            box.find("input.iio-channel-cb").prop("checked", false);
        }).appendTo(tools);
    };

    /**
     * Watches a config-node select (e.g. #node-input-device) and calls back with the device
     * found on this host: onDevice(device|null, cfg|null, state) where state is "none"
     * (no config node), "unavailable" (endpoint failed), "notfound" or "ok". Called again when
     * the selection or the config node's fields change.
     */
    function watchDevice(select, onDevice) {
        var last = null;
        function load() {
            var id = select.val();
            var cfg = deviceConfig(id);
            var key = JSON.stringify([id, cfg]);
            if (key === last) {
                return;
            }
            last = key;
            if (!cfg) {
                onDevice(null, null, "none");
                return;
            }
            getDevices(cfg.uri).then(function (devices) {
                if (key !== last) {
                    return;
                }
                if (!devices) {
                    onDevice(null, cfg, "unavailable");
                    return;
                }
                var dev = matchDevice(devices, cfg);
                onDevice(dev, cfg, dev ? "ok" : "notfound");
            });
        }
        select.on("change", load);
        load();
    }

    /** Shows the state of a watchDevice() callback in a .form-tips element. */
    function showDeviceState(el, dev, cfg, state) {
        var text;
        switch (state) {
        case "ok": text = t("shared.found", { device: describeDevice(dev) }); break;
        case "notfound": text = t("shared.notFound", { config: describeConfig(cfg) }); break;
        case "unavailable": text = t("shared.unavailable"); break;
        default: text = t("shared.noDevice");
        }
        el.text(text).toggleClass("iio-tip-warn", state === "notfound" || state === "unavailable").show();
    }

    /** Buffers of a device in one direction ("in" | "out") as dropdown options. */
    function bufferOptions(dev, direction) {
        return (dev.buffers || []).filter(function (b) {
            return !b.direction || b.direction === direction;
        }).map(function (b) {
            var n = (b.channels || []).filter(function (c) { return c !== "timestamp"; }).length;
            return { value: String(b.index), label: "buffer" + b.index + "  (" + n + " ch)" };
        });
    }

    /**
     * Channels of one buffer (timestamp excluded) as [{id, info}]; when the buffer index is not
     * listed, the device's scan elements of that direction.
     */
    function bufferChannels(dev, index, direction) {
        var byId = {};
        (dev.channels || []).forEach(function (c) { byId[c.id] = c; });
        var buf = (dev.buffers || []).filter(function (b) { return String(b.index) === String(index); })[0];
        var ids;
        if (buf) {
            ids = (buf.channels || []).slice();
        } else {
            ids = (dev.channels || []).filter(function (c) {
                return c.scanIndex !== null && c.scanIndex !== undefined && (!c.direction || c.direction === direction);
            }).sort(function (a, b) { return a.scanIndex - b.scanIndex; }).map(function (c) { return c.id; });
        }
        return ids.filter(function (id) { return id !== "timestamp"; }).map(function (id) {
            var ch = byId[id];
            return { id: id, info: ch && ch.scanType ? ch.scanType : "" };
        });
    }

    /**
     * The form shared by the buffer nodes (iio-in, iio-dmabuf-out): device state, buffer combo of
     * the given direction, channel checklist of the chosen buffer, trigger combo. `prefix` names
     * the form's element ids (`<prefix>-channels`, `<prefix>-device-state`, …).
     */
    function bufferForm(node, prefix, direction) {
        var bufferCombo = new Combo($("#node-input-buffer"));
        var triggerCombo = new Combo($("#node-input-trigger"));
        var channelList = new ChannelList($("#" + prefix + "-channels"), node.channels);
        node._iioChannelList = channelList;
        var device = null;
        var kernelTriggers = null;
        // The trigger this dialog chose for the user (see chooseTrigger), until the user picks one.
        var chosen = null;
        var userPicked = false;

        function renderChannels() {
            channelList.render(device ? bufferChannels(device, $("#node-input-buffer").val(), direction) : null);
        }
        $("#node-input-buffer").on("change", renderChannels);

        watchDevice($("#node-input-device"), function (dev, cfg, state) {
            device = dev;
            showDeviceState($("#" + prefix + "-device-state"), dev, cfg, state);
            if (dev) {
                var buffers = bufferOptions(dev, direction);
                bufferCombo.setOptions(buffers);
                $("#" + prefix + "-buffer-tip").text(t("shared.noBuffers", { direction: direction === "in" ? "input" : "output" })).toggle(buffers.length === 0);
            } else {
                bufferCombo.setOptions(null);
                $("#" + prefix + "-buffer-tip").hide();
            }
            chooseTrigger();
            showTriggerTip();
            renderChannels();
        });

        // A triggered buffer without a trigger cannot start (the kernel answers EINVAL). When the
        // device has none attached and none is set, pick the first one the list offers (an
        // iio-trigger node of this workspace before the kernel's triggers), so that a new node
        // works on its defaults; when there is none, say what is missing before the deploy.
        function chooseTrigger() {
            if (userPicked || !device || kernelTriggers === null) {
                return;
            }
            var current = $("#node-input-trigger").val();
            if (device.triggerable === false || device.currentTrigger !== "") {
                // Another device, which needs no choice: take back the one made for the previous.
                if (chosen !== null && current === chosen) {
                    chosen = null;
                    triggerCombo.value("");
                }
                return;
            }
            if (current && current !== chosen) {
                return;
            }
            var pick = workspaceTriggerNames().concat(kernelTriggers.map(function (tr) { return tr.name; }))[0];
            if (pick && pick !== current) {
                chosen = pick;
                triggerCombo.value(pick);
            }
        }

        function showTriggerTip() {
            var tip = $("#" + prefix + "-trigger-tip");
            var current = $("#node-input-trigger").val();
            var name = device ? device.label || device.name : "";
            if (!device) {
                tip.hide();
            } else if (device.triggerable === false) {
                tip.text(t("shared.notTriggerable")).removeClass("iio-tip-warn").show();
            } else if (device.currentTrigger === "" && !current) {
                tip.text(t("shared.needsTrigger", { device: name })).addClass("iio-tip-warn").show();
            } else if (device.currentTrigger === "" && current === chosen) {
                tip.text(t("shared.triggerChosen", { device: name, trigger: current })).removeClass("iio-tip-warn").show();
            } else {
                tip.hide();
            }
        }
        $("#node-input-trigger").on("input change", showTriggerTip);
        // What the user picks or types is theirs: no more choosing for them.
        triggerCombo.select.on("change", function () { userPicked = true; });
        $("#node-input-trigger").on("input", function () { userPicked = true; });

        triggerCombo.setOptions(triggerOptions(null), t("shared.keepTrigger"));
        getTriggers(configUri($("#node-input-device").val())).then(function (triggers) {
            kernelTriggers = triggers || [];
            triggerCombo.setOptions(triggerOptions(triggers), t("shared.keepTrigger"));
            chooseTrigger();
            showTriggerTip();
        });
    }

    /** oneditsave of the buffer nodes (iio-in, iio-dmabuf-out): the ticked channels (or the free text). */
    function saveChannels() {
        if (this._iioChannelList) {
            this.channels = this._iioChannelList.get();
        }
        delete this._iioChannelList;
    }

    /** oneditcancel of the buffer nodes. */
    function forgetChannels() {
        delete this._iioChannelList;
    }

    // ------------------------------------------------------------------------------------------
    // Small helpers of the node definitions (labels and validators)
    // ------------------------------------------------------------------------------------------

    /** A property value as trimmed text ("" for undefined and null). */
    function str(v) {
        return String(v === undefined || v === null ? "" : v).trim();
    }

    /** A whole number of at least min, given as a number or as text. */
    function wholeNumber(v, min) {
        var s = str(v);
        return /^\d+$/.test(s) && Number(s) >= min;
    }

    /**
     * The value of a property: from the open edit form when present, else from the node.
     * prefix: "node-input-" (flow nodes, the default) or "node-config-input-" (config nodes).
     */
    function formValue(node, prop, prefix) {
        var el = $("#" + (prefix || "node-input-") + prop);
        return el.length ? el.val() : node[prop];
    }

    /** The name a node's label uses for its iio-device config node ("" when there is none). */
    function deviceLabel(configId) {
        var c = RED.nodes.node(configId);
        return c ? (c.name || c.deviceLabel || c.deviceName || c.deviceId || "") : "";
    }

    /** The label of a buffer node: its name, else "<device> buffer<N>", else the fallback. */
    function bufferNodeLabel(node, fallback) {
        if (node.name) {
            return node.name;
        }
        var dev = deviceLabel(node.device);
        return dev ? dev + " buffer" + node.buffer : fallback;
    }

    /** labelStyle of every IIO node: italic when named. */
    function labelStyle() {
        return this.name ? "node_label_italic" : "";
    }

    window.nodeRedContribIio = {
        OTHER: OTHER,
        t: t,
        getJSON: getJSON,
        getDevices: getDevices,
        getTriggers: getTriggers,
        configUri: configUri,
        deviceConfig: deviceConfig,
        matchDevices: matchDevices,
        matchDevice: matchDevice,
        describeDevice: describeDevice,
        describeConfig: describeConfig,
        triggerNameOf: triggerNameOf,
        workspaceTriggerNames: workspaceTriggerNames,
        triggerOptions: triggerOptions,
        Combo: Combo,
        ChannelList: ChannelList,
        watchDevice: watchDevice,
        showDeviceState: showDeviceState,
        bufferOptions: bufferOptions,
        bufferChannels: bufferChannels,
        bufferForm: bufferForm,
        saveChannels: saveChannels,
        forgetChannels: forgetChannels,
        str: str,
        wholeNumber: wholeNumber,
        formValue: formValue,
        deviceLabel: deviceLabel,
        bufferNodeLabel: bufferNodeLabel,
        labelStyle: labelStyle
    };
})();
